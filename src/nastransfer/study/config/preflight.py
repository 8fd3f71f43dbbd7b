"""Checks of a study against its data, run before its run directory exists.

`load_study` checks what the config alone says and that each dataset's files can be found. What
only the data can say (how many classes a target has and their names, how many images each class
holds, the images' size, whether the files are whole and safe to read) is checked here by reading
the files the tasks will read, through the same cached loader the tasks use. A failure is one
`ConfigError` naming the config key and the problem, instead of every task failing later.
"""

from __future__ import annotations

from typing import Any

from nastransfer.errors import ConfigError, NastransferError
from nastransfer.study.config.resolved import ResolvedSetting, ResolvedStudy
from nastransfer.study.driver.tasks import canonical_json


def check_data(study: ResolvedStudy, where: str) -> None:
    """Read every dataset and build every proxy the study's tasks will use."""
    config = study.config
    for i, target in enumerate(study.targets):
        if not target.is_table:
            _load(target.data, where, f"targets[{i}]")
            if any(_official(setting) for setting in target.settings):
                _load_test_part(config.targets[i], where, f"targets[{i}]")
    official = any(_official(setting) for setting in study.source_settings)
    for i, (source, resolved) in enumerate(zip(config.sources, study.sources, strict=True)):
        if source.table is not None:
            continue
        data = _load(resolved.data, where, f"sources[{i}]")
        if len(data) == 0:
            raise ConfigError("holds no images", field=f"sources[{i}]", where=where)
        if source.proxy_of is not None:
            _check_resolution(study, source, where, f"sources[{i}]")
            if official:
                raise ConfigError(
                    "split 'official' needs a dataset's own test part; "
                    f"proxy source {source.name!r} has none",
                    field="evaluate.source_overrides",
                    where=where,
                )
        elif official:
            _load_test_part(source, where, f"sources[{i}]")


def _load(spec: dict[str, Any], where: str, path: str) -> Any:
    from nastransfer.study.worker.body import load_data

    try:
        return load_data(canonical_json(spec))
    except NastransferError as err:
        raise ConfigError(str(err), field=path, where=where) from None


def _check_resolution(study: ResolvedStudy, source: Any, where: str, path: str) -> None:
    """A proxy only shrinks images: its resolution is at most its target's."""
    if source.resolution is None:
        return
    target = next(t for t in study.targets if t.name == source.proxy_of)
    base = _load(target.data, where, path)
    if source.resolution > base.image_size:
        raise ConfigError(
            f"{source.resolution} is above the {base.image_size} px "
            f"of target {source.proxy_of!r} (a proxy only shrinks images)",
            field=f"{path}.resolution",
            where=where,
        )


def _official(setting: ResolvedSetting) -> bool:
    return setting.resolved is not None and setting.resolved.split == "official"


def _load_test_part(entry: Any, where: str, path: str) -> None:
    """Trainings under split 'official' test on the dataset's own test part: it must load too."""
    from nastransfer.data import load_dataset

    try:
        load_dataset(entry.dataset, root=entry.root, train=False, **entry.options)
    except NastransferError as err:
        raise ConfigError(str(err), field=path, where=where) from None
