"""The worker side of a study: the entry the executors ship to a worker (`entry.run_task`), the work it
does with one task in its process (`body`: data, search, training or look-up), a data-parallel training's
ranks (`distributed_eval`) and the executors that run workers (`executors`: local processes, Ray).

This room's `__init__` imports nothing, so its modules import each other without passing through it."""
