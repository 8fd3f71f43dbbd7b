"""What a study will cost before it runs: the plan (`plan.estimate_study`), the per-step timings and
multiply-add counts it rests on (`step_costs`, kept in `runtime.speed_cache`), and the fidelity kind's
pricing helpers (`fidelity`).

The public names are re-exported where they are used (`nastransfer plan` imports `plan`); this room's
`__init__` imports nothing, so the kinds price through it without importing the plan."""
