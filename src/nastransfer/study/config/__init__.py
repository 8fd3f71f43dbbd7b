"""What reads and checks a study file before anything runs: the schema, the validation and its checks,
the resolution into a `ResolvedStudy`, the `[fidelity]` section, the data preflight and the storage check.

The public names are re-exported from `nastransfer.study`; this room's `__init__` imports nothing, so
its modules import each other (and the other rooms import them) without passing through it."""
