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
    from nastransfer.study.work import load_data

    for i, target in enumerate(config.targets):
        if target.dataset is not None:
            _load(load_data, data_spec(config, target), where, f"targets[{i}]")
            if _official_split(target):
                _load_test_part(target, where, f"targets[{i}]")
    for i, source in enumerate(config.sources):
        if source.table is not None:
            continue
        data = _load(load_data, data_spec(config, source), where, f"sources[{i}]")
        if source.proxy_of is not None and source.resolution is not None:
            base = load_data(canonical_json(data_spec(config, config.target(source.proxy_of))))
            if source.resolution > base.image_size:
                raise ConfigError(
                    f"{where}: sources[{i}].resolution: {source.resolution} is above the "
                    f"{base.image_size} px of target {source.proxy_of!r} (a proxy only shrinks images)"
                )
        if len(data) == 0:
            raise ConfigError(f"{where}: sources[{i}]: holds no images")


def _load(load_data: Any, spec: dict[str, Any], where: str, path: str) -> Any:
    try:
        return load_data(canonical_json(spec))
    except NastransferError as err:
        raise ConfigError(f"{where}: {path}: {err}") from None


def _official_split(target: Any) -> bool:
    from nastransfer.study.config import target_overrides
    from nastransfer.train import get_protocol

    return any(get_protocol(p, **target_overrides(target, p)).split == "official" for p in target.protocols)


def _load_test_part(target: Any, where: str, path: str) -> None:
    from nastransfer.data import load_dataset

    try:
        load_dataset(target.dataset, root=target.root, train=False, **target.options)
    except NastransferError as err:
        raise ConfigError(f"{where}: {path}: {err}") from None
