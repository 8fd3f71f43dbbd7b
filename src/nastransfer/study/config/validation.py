"""Checks of a study file beyond its schema: names, and each reference against the package that owns it.

`parse_config` checks the shape (pydantic: unknown keys and wrong types are errors), then that
names are unique and refer to something, then (`validate_references`) every reference through the
owning package's own check: search methods and their params against the search registry, datasets
against the data readers (a missing dataset is found here, before any run directory exists),
tables against `tabular`, override fields against `train.Protocol`, `[fidelity]` against its
section's check. What needs the resolved values (a method's `Searcher.check` of its budget, batch
sizes against data-parallel processes) is `check_resolved`, run after `study.config.resolved.resolve`.
`load_study(path)`, what the CLI calls, runs them all and returns the `ResolvedStudy`. Every
problem is a one-line `ConfigError` whose `field` is the key path (`methods[2].name`).
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from nastransfer.errors import ConfigError, NastransferError
from nastransfer.study.config.checks import (
    check_dataset,
    check_override_fields,
    check_protocol,
    check_table,
    fail,
)
from nastransfer.study.config.fidelity import check_fidelity
from nastransfer.study.config.resolved import ResolvedStudy, resolve
from nastransfer.study.config.schema import MethodConfig, StudyConfig

if TYPE_CHECKING:
    from nastransfer.search import Searcher


def read_toml(path: str | Path) -> dict[str, Any]:
    """The study file's TOML; a missing, unreadable or malformed file is a one-line ConfigError."""
    path = Path(path)
    where = str(path)
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError("no such study file", where=where) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read ({err})", where=where) from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"TOML syntax error: {err}", where=where) from None


def load_study(path: str | Path, data: bool = True) -> ResolvedStudy:
    """Read, validate and resolve a study file; any problem is a one-line ConfigError.

    `data=False` (for `nastransfer plan`) does not look for the datasets' files on this machine.
    """
    return parse_study(read_toml(path), str(path), data=data)


def parse_study(raw: dict[str, Any], where: str = "<study>", data: bool = True) -> ResolvedStudy:
    """Validate and resolve an already-parsed study: the one path from a file's contents to a study."""
    config = parse_config(raw, where, check_references=False)
    validate_references(config, where, data=data)
    study = resolve(config, where)
    check_resolved(study, where)
    return study


def load_config(path: str | Path, check_references: bool = True) -> StudyConfig:
    """Read a study file and validate its schema (and, by default, its references)."""
    return parse_config(read_toml(path), str(path), check_references=check_references)


def parse_config(raw: dict[str, Any], where: str = "<study>", check_references: bool = True) -> StudyConfig:
    """Validate an already-parsed study (e.g. from `study.resolved.json`)."""
    _check_finite(raw, where, ())
    try:
        config = StudyConfig.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        shown = first["type"] not in ("missing", "extra_forbidden") and not isinstance(
            first.get("input", {}), dict
        )
        got = _shown(first["input"]) if shown and "input" in first else ""
        raise fail(where, key_path(first["loc"]), f"{message}{got}") from None
    _check_names(config, where)
    _check_nproc_names(config, where)
    if check_references:
        validate_references(config, where)
    return config


def validate_references(config: StudyConfig, where: str, data: bool = True) -> None:
    """Every name the study uses exists in the package that owns it.

    `data=False` (a plan on a machine without the datasets) only leaves out finding each
    dataset's files: `plan` and `run` run every other check, `[fidelity]`'s included.
    """
    _check_data(config, where, locate=data)
    for i, target in enumerate(config.targets):
        if target.dataset is None:
            continue
        check_override_fields(target.overrides, where, f"targets[{i}].overrides")
        for j, name in enumerate(target.protocols):  # the names; resolution applies the overrides
            check_protocol(name, {}, where, f"targets[{i}].protocols[{j}]")
        for name, fields in target.protocol_overrides.items():
            check_override_fields(fields, where, f"targets[{i}].protocol_overrides.{name}")
            if name not in target.protocols:
                raise fail(where, f"targets[{i}].protocol_overrides.{name}", f"{name!r} is not in protocols")
    if config.evaluate.on_source and any(s.table is None for s in config.sources):
        evaluate = config.evaluate
        check_override_fields(evaluate.source_overrides, where, "evaluate.source_overrides")
        for name in evaluate.protocols:
            check_protocol(name, {}, where, "evaluate")
        for name, fields in evaluate.source_protocol_overrides.items():
            check_override_fields(fields, where, f"evaluate.source_protocol_overrides.{name}")
            if name not in evaluate.protocols:
                key = f"evaluate.source_protocol_overrides.{name}"
                raise fail(where, key, f"{name!r} is not a source protocol")
    for i, method in enumerate(config.methods):
        check_method(method, where, f"methods[{i}]")
        if config.executor.kind == "local" and method.params.get("device") is not None:
            _check_device_here(method.params["device"], where, f"methods[{i}].params.device")


def _check_device_here(device: str, where: str, path: str) -> None:
    """A local study's tasks run on this machine: a device it lacks fails here, not in every task."""
    from nastransfer.runtime import check_device

    try:
        check_device(device, here=True)
    except ConfigError as err:
        raise fail(where, path, err.problem) from None


def _check_data(config: StudyConfig, where: str, locate: bool = True) -> None:
    """Datasets are known (and, with `locate`, their files found), tables opened, the space is
    known, and `[fidelity]` holds together."""
    for i, source in enumerate(config.sources):
        if source.dataset is not None:
            check_dataset(source.dataset, source.root, source.options, where, f"sources[{i}]", locate)
        elif source.table is not None:
            check_table(source.table, config.space, where, f"sources[{i}].table")
    for i, target in enumerate(config.targets):
        if target.dataset is not None:
            check_dataset(target.dataset, target.root, target.options, where, f"targets[{i}]", locate)
        else:
            check_table(target.table, config.space, where, f"targets[{i}].table")
    _check_space(config, where)
    if config.fidelity is not None:
        check_fidelity(config, where)


def check_resolved(study: ResolvedStudy, where: str) -> None:
    """What only the resolved values say: each method's budget, data-parallel batch sizes."""
    from nastransfer.search import Budget

    for i, method in enumerate(study.methods):
        searcher = check_method(study.config.methods[i], where, f"methods[{i}]")
        try:
            searcher.check(study.space, Budget.from_dict(method.budget))
        except ConfigError as err:
            raise err.at(where, f"methods[{i}].budget") from None
        except NastransferError as err:
            raise fail(where, f"methods[{i}].budget", str(err)) from None
    _check_nproc_batches(study, where)


def check_method(method: MethodConfig, where: str, path: str) -> Searcher:
    """The searcher exists (registry, plugin or module:Class) and accepts the method's params."""
    from nastransfer.study.worker.body import searcher_factory

    try:
        factory = searcher_factory(method.name)
    except NastransferError as err:
        raise fail(where, f"{path}.name", str(err)) from None
    try:
        return factory(**method.params)
    except ConfigError as err:  # a parameter's own error names it: methods[i].params.lr
        raise err.at(where, f"{path}.params") from None
    except NastransferError as err:
        raise fail(where, f"{path}.params", str(err)) from None
    except (TypeError, ValueError) as err:
        raise fail(where, f"{path}.params", f"searcher {method.name!r} rejects its params ({err})") from None


def key_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """("methods", 2, "name") -> "methods[2].name"; pydantic's union branch tags are dropped."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and (
            part.startswith(("function-", "list[", "dict[")) or part in _TYPE_TAGS
        ):
            continue
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


_TYPE_TAGS = {"str", "int", "float", "bool", "none", "list", "dict"}


def _check_finite(value: Any, where: str, loc: tuple[Any, ...]) -> None:
    """TOML and JSON can spell inf and nan; no setting of a study means either."""
    if isinstance(value, float) and not math.isfinite(value):
        raise fail(where, key_path(loc), f"{value} is not a finite number")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, where, (*loc, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_finite(item, where, (*loc, i))


def _shown(value: Any) -> str:
    text = repr(value)
    return f" (got {text if len(text) <= 60 else text[:57] + '...'})"


def _check_names(config: StudyConfig, where: str) -> None:
    seen: dict[str, str] = {}
    for group in ("sources", "targets"):
        for i, entry in enumerate(getattr(config, group)):
            if entry.name in seen:
                raise fail(
                    where, f"{group}[{i}].name", f"{entry.name!r} is already the name of {seen[entry.name]}"
                )
            seen[entry.name] = f"{group}[{i}]"
    labels: dict[str, int] = {}
    for i, method in enumerate(config.methods):
        if method.method in labels:
            raise fail(
                where,
                f"methods[{i}]",
                f"{method.method!r} appears twice (also methods[{labels[method.method]}]); give one a label",
            )
        if method.method == "random":
            raise fail(
                where, f"methods[{i}].name", "'random' names the sampling baseline; use [random] n = ..."
            )
        labels[method.method] = i
    target_names = {t.name for t in config.targets}
    for i, source in enumerate(config.sources):
        if source.proxy_of is not None and source.proxy_of not in target_names:
            known = ", ".join(sorted(target_names)) or "none"
            raise fail(
                where, f"sources[{i}].proxy_of", f"no target named {source.proxy_of!r} (targets: {known})"
            )
        if source.proxy_of is not None and config.target(source.proxy_of).table is not None:
            raise fail(where, f"sources[{i}].proxy_of", f"target {source.proxy_of!r} is a table, not images")


def _check_nproc_names(config: StudyConfig, where: str) -> None:
    """Per-target process counts name image targets of the study."""
    for name, nproc in config.executor.nproc_per_target.items():
        path = f"executor.nproc_per_target.{name}"
        if name not in {t.name for t in config.targets}:
            known = ", ".join(t.name for t in config.targets) or "none"
            raise fail(where, path, f"no target named {name!r} (targets: {known})")
        if nproc > 1 and config.target(name).table is not None:
            raise fail(where, path, f"target {name!r} is a table: its look-ups run in one process")


def _check_nproc_batches(study: ResolvedStudy, where: str) -> None:
    """A data-parallel training splits each batch over its processes: every batch size must divide."""
    executor = study.executor
    for target in study.targets:
        nproc = executor.target_nproc(target.name)
        if nproc == 1 or target.is_table:
            continue
        path = (
            f"executor.nproc_per_target.{target.name}"
            if target.name in executor.nproc_per_target
            else "executor.nproc_per_task"
        )
        for setting in target.settings:
            batch = setting.resolved.batch_size
            if batch % nproc:
                raise fail(
                    where,
                    path,
                    f"target {target.name!r} protocol {setting.protocol!r}: batch_size {batch} "
                    f"does not split over {nproc} processes",
                )


def _check_space(config: StudyConfig, where: str) -> None:
    """A registered space, with an evaluation network if the study trains cells."""
    from nastransfer import spaces

    try:
        space = spaces.get_space(config.space)
    except NastransferError as err:
        raise fail(where, "space", str(err)) from None
    trains = any(s.table is None for s in config.sources) or any(t.table is None for t in config.targets)
    if trains and space.eval_net is None:
        message = f"search space {config.space!r} has no evaluation network; its cells can only be looked up"
        raise fail(where, "space", message)
