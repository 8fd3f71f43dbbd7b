"""The driver of a study: the planner (`planner`: the kinds' keyed tasks), task identity (`tasks`), the
SQLite store (`store`), the run directory's files (`run_dir.RunDir`) and lock (`lock`), the loop that
hands ready tasks to an executor and records what comes back (`driver`), and the results frame read
back from the store (`frame`).

The public names are re-exported from `nastransfer.study`; this room's `__init__` imports nothing, so
the task kinds import its store and tasks without passing through the driver loop."""
