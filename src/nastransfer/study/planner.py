"""Expand a study config into its tasks: searches, random samples, and the evaluations they feed.

`search`: source x method x seed. `sample`: the random baseline's n cells, seeds `seed .. seed+n-1`.
`evaluate`: every found cell on its own source and the first `random.source_cells` random cells (all by
default) on every source (when `evaluate.on_source`), and every cell on each target x protocol x eval
seed. An evaluate task names its producer; its cell, and so the content key of the training, is known
only once that has run.
`fidelity`: a `[fidelity]` section's proxies scoring its cells (`study.fidelity_plan`).
"""

from __future__ import annotations

from typing import Any

from nastransfer.study.fidelity_plan import plan_fidelity
from nastransfer.study.resolved import ResolvedSetting, ResolvedSource, ResolvedStudy
from nastransfer.study.tasks import Task


def plan_study(study: ResolvedStudy) -> list[Task]:
    """All tasks of the study, producers before the evaluations that depend on them."""
    source_settings = {s.name: _source_settings(study, s) for s in study.sources}
    target_settings = [
        _setting("target", target.name, target.data, setting, seed)
        for target in study.targets
        for setting in target.settings
        for seed in target.eval_seeds
    ]
    all_source_settings = [setting for settings in source_settings.values() for setting in settings]

    tasks: list[Task] = []
    evaluations: list[Task] = []
    for source in study.sources:
        for method in study.methods:
            for seed in study.seeds:
                search = Task.make(
                    "search",
                    {
                        "space": study.space,
                        "source": source.name,
                        "data": source.data,
                        "method": method.method,
                        "searcher": method.searcher,
                        "params": method.params,
                        "budget": method.budget,
                        "seed": seed,
                        "split_seed": study.split_seed,
                    },
                )
                tasks.append(search)
                origin = {
                    "method": method.method,
                    "source": source.name,
                    "source_kind": source.kind,
                    "search_seed": seed,
                }
                for setting in source_settings[source.name] + target_settings:
                    evaluations.append(_evaluate(study.space, search, origin, setting))
    random = study.config.random
    for index in range(random.n):
        seed = random.seed + index
        drawn = {"space": study.space, "seed": seed}
        sample = Task.make("sample", {**drawn, "table": study.random_table} if study.random_table else drawn)
        tasks.append(sample)
        origin = {"method": "random", "source": "", "source_kind": "", "search_seed": seed}
        on_sources = all_source_settings if index < random.on_source else []
        for setting in on_sources + target_settings:
            evaluations.append(_evaluate(study.space, sample, origin, setting))
    return tasks + evaluations + plan_fidelity(study)


def _source_settings(study: ResolvedStudy, source: ResolvedSource) -> list[dict[str, Any]]:
    """A cell on its source, once per source protocol and eval seed (none when `on_source` is off)."""
    return [
        _setting("source", source.name, source.data, setting, seed)
        for setting in source.settings
        for seed in study.config.evaluate.source_eval_seeds
    ]


def _setting(role: str, name: str, data: dict[str, Any], setting: ResolvedSetting, seed: int) -> dict:
    return {
        "role": role,
        "name": name,
        "data": data,
        "protocol": setting.protocol,
        "overrides": setting.overrides,
        "seed": seed,
    }


def _evaluate(space: str, producer: Task, origin: dict[str, Any], setting: dict[str, Any]) -> Task:
    return Task.make(
        "evaluate", {"space": space, "origin": origin, "setting": setting}, producer=producer.key
    )
