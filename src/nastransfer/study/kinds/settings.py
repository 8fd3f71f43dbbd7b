"""Where a study evaluates cells: each source's settings (when `evaluate.on_source`) and the targets'.

A setting is a role (`source` or `target`), a name, its data spec, a protocol with its overrides and
a training seed; it is part of an evaluate task's spec, so its fields and their order are fixed.
"""

from __future__ import annotations

from typing import Any

from nastransfer.study.config.resolved import ResolvedSetting, ResolvedSource, ResolvedStudy


def source_settings(study: ResolvedStudy, source: ResolvedSource) -> list[dict[str, Any]]:
    """A cell on its source, once per source protocol and eval seed (none when `on_source` is off)."""
    return [
        _setting("source", source.name, source.data, setting, seed)
        for setting in source.settings
        for seed in study.config.evaluate.source_eval_seeds
    ]


def all_source_settings(study: ResolvedStudy) -> list[dict[str, Any]]:
    return [setting for source in study.sources for setting in source_settings(study, source)]


def target_settings(study: ResolvedStudy) -> list[dict[str, Any]]:
    """Every target x protocol x eval seed."""
    return [
        _setting("target", target.name, target.data, setting, seed)
        for target in study.targets
        for setting in target.settings
        for seed in target.eval_seeds
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
