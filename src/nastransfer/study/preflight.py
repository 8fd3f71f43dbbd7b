"""Checks of a study against its data, run before its run directory exists.

`load_config` checks what the config alone says and that each dataset's files can be found. What
only the data can say (how many classes a target has and their names, how many images each class
holds, the images' size, whether the files are whole and safe to read) is checked here by reading
the files the tasks will read, through the same cached loader the tasks use. A failure is one
`ConfigError` naming the config key and the problem, instead of every task failing later.
"""

from __future__ import annotations

from typing import Any

from nastransfer.errors import ConfigError, NastransferError
from nastransfer.study.config import StudyConfig
from nastransfer.study.planner import data_spec
from nastransfer.study.tasks import canonical_json


def check_data(config: StudyConfig, where: str) -> None:
    """Read every dataset and build every proxy the study's tasks will use."""
    from nastransfer.study.config import target_overrides

    for i, target in enumerate(config.targets):
        if target.dataset is not None:
            _load(data_spec(config, target), where, f"targets[{i}]")
            if any(_official(p, target_overrides(target, p)) for p in target.protocols):
                _load_test_part(target, where, f"targets[{i}]")
    on_source = config.evaluate.on_source
    official = on_source and _official(config.evaluate.source_protocol, config.evaluate.source_overrides)
    for i, source in enumerate(config.sources):
        if source.table is not None:
            continue
        data = _load(data_spec(config, source), where, f"sources[{i}]")
        if len(data) == 0:
            raise ConfigError(f"{where}: sources[{i}]: holds no images")
        if source.proxy_of is not None:
            _check_resolution(config, source, where, f"sources[{i}]")
            if official:
                raise ConfigError(
                    f"{where}: evaluate.source_overrides: split 'official' needs a dataset's own test part; "
                    f"proxy source {source.name!r} has none"
                )
        elif official:
            _load_test_part(source, where, f"sources[{i}]")


def _load(spec: dict[str, Any], where: str, path: str) -> Any:
    from nastransfer.study.work import load_data

    try:
        return load_data(canonical_json(spec))
    except NastransferError as err:
        raise ConfigError(f"{where}: {path}: {err}") from None


def _check_resolution(config: StudyConfig, source: Any, where: str, path: str) -> None:
    """A proxy only shrinks images: its resolution is at most its target's."""
    if source.resolution is None:
        return
    base = _load(data_spec(config, config.target(source.proxy_of)), where, path)
    if source.resolution > base.image_size:
        raise ConfigError(
            f"{where}: {path}.resolution: {source.resolution} is above the {base.image_size} px "
            f"of target {source.proxy_of!r} (a proxy only shrinks images)"
        )


def _official(protocol: str, overrides: dict[str, Any]) -> bool:
    from nastransfer.train import get_protocol

    return get_protocol(protocol, **overrides).split == "official"


def _load_test_part(entry: Any, where: str, path: str) -> None:
    """Trainings under split 'official' test on the dataset's own test part: it must load too."""
    from nastransfer.data import load_dataset

    try:
        load_dataset(entry.dataset, root=entry.root, train=False, **entry.options)
    except NastransferError as err:
        raise ConfigError(f"{where}: {path}: {err}") from None
