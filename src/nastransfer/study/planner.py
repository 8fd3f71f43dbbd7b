"""Expand a study config into its tasks: searches, random samples, and the evaluations they feed.

`search`: source x method x seed. `sample`: the random baseline's n cells, seeds `seed .. seed+n-1`.
`evaluate`: every found cell on its own source and every random cell on every source (when
`evaluate.on_source`), and every cell on each target x protocol x eval seed. An evaluate task names
its producer; its cell, and so the content key of the training, is known only once that has run.
`fidelity`: a `[fidelity]` section's proxies scoring its cells (`study.fidelity_plan`).
"""

from __future__ import annotations

from typing import Any

from nastransfer.study.config import (
    TABLE_PROTOCOL,
    SourceConfig,
    StudyConfig,
    TargetConfig,
    resolve_budget,
    space_table,
    target_overrides,
)
from nastransfer.study.fidelity_plan import plan_fidelity
from nastransfer.study.tasks import Task


def plan_study(config: StudyConfig) -> list[Task]:
    """All tasks of the study, producers before the evaluations that depend on them."""
    source_settings = {
        s.name: _source_settings(config, s) if config.evaluate.on_source else [] for s in config.sources
    }
    target_settings = [setting for t in config.targets for setting in _target_settings(t)]
    all_source_settings = [setting for settings in source_settings.values() for setting in settings]

    tasks: list[Task] = []
    evaluations: list[Task] = []
    for source in config.sources:
        for method in config.methods:
            for seed in config.seeds:
                search = Task.make(
                    "search",
                    {
                        "space": config.space,
                        "source": source.name,
                        "data": data_spec(config, source),
                        "method": method.method,
                        "searcher": method.name,
                        "params": method.params,
                        "budget": resolve_budget(config, method, config.name, "methods"),
                        "seed": seed,
                        "split_seed": config.split_seed,
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
                    evaluations.append(_evaluate(config.space, search, origin, setting))
    table = space_table(config)
    for index in range(config.random.n):
        seed = config.random.seed + index
        drawn = {"space": config.space, "seed": seed}
        sample = Task.make("sample", {**drawn, "table": table} if table else drawn)
        tasks.append(sample)
        origin = {"method": "random", "source": "", "source_kind": "", "search_seed": seed}
        for setting in all_source_settings + target_settings:
            evaluations.append(_evaluate(config.space, sample, origin, setting))
    return tasks + evaluations + plan_fidelity(config, data_spec)


def data_spec(config: StudyConfig, entry: SourceConfig | TargetConfig) -> dict[str, Any]:
    """What a worker needs to load a source's or target's data, as plain JSON."""
    if entry.table is not None:
        return {"kind": "table", "table": entry.table}
    if isinstance(entry, SourceConfig) and entry.proxy_of is not None:
        return {
            "kind": "proxy",
            "of": data_spec(config, config.target(entry.proxy_of)),
            "classes": entry.classes,
            "per_class": entry.per_class,
            "fraction": entry.fraction,
            "resolution": entry.resolution,
            "seed": entry.seed,
        }
    return {"kind": "dataset", "dataset": entry.dataset, "root": entry.root, "options": entry.options}


def _source_settings(config: StudyConfig, source: SourceConfig) -> list[dict[str, Any]]:
    data = data_spec(config, source)
    if source.table is not None:
        return [
            _setting("source", source.name, data, TABLE_PROTOCOL, {}, seed)
            for seed in config.evaluate.source_eval_seeds
        ]
    protocol, overrides = config.evaluate.source_protocol, config.evaluate.source_overrides
    return [
        _setting("source", source.name, data, protocol, overrides, seed)
        for seed in config.evaluate.source_eval_seeds
    ]


def _target_settings(target: TargetConfig) -> list[dict[str, Any]]:
    if target.table is not None:
        data = {"kind": "table", "table": target.table}
        return [_setting("target", target.name, data, TABLE_PROTOCOL, {}, seed) for seed in target.eval_seeds]
    data = {"kind": "dataset", "dataset": target.dataset, "root": target.root, "options": target.options}
    return [
        _setting(
            "target",
            target.name,
            data,
            protocol,
            target_overrides(target, protocol),
            seed,
        )
        for protocol in target.protocols
        for seed in target.eval_seeds
    ]


def _setting(
    role: str, name: str, data: dict[str, Any], protocol: str, overrides: dict[str, Any], seed: int
) -> dict:
    return {
        "role": role,
        "name": name,
        "data": data,
        "protocol": protocol,
        "overrides": overrides,
        "seed": seed,
    }


def _evaluate(space: str, producer: Task, origin: dict[str, Any], setting: dict[str, Any]) -> Task:
    return Task.make(
        "evaluate", {"space": space, "origin": origin, "setting": setting}, producer=producer.key
    )
