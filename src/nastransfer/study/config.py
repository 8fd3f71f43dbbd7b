"""The study config: a TOML file, validated in full before anything runs.

`load_config(path)` parses the TOML, checks its shape with pydantic (unknown keys and wrong types
are errors), then checks every reference against the packages that own it: search methods against
the search registry, protocols and overrides against `train.get_protocol`, budgets against
`search.Budget`, datasets against the data readers (a missing dataset is found here, before any
run directory exists) and tables against `tabular`. Every problem is a one-line `ConfigError`
naming the file, the key path (`methods[2].name`) and what is wrong.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import tomllib
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nastransfer.errors import ConfigError, NastransferError

TABLE_PROTOCOL = "table"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _DataFields(_Section):
    """Where a source's or target's images (or table) come from; `root` may use $VARS and ~."""

    dataset: str | None = None
    root: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    table: str | None = None

    @field_validator("root")
    @classmethod
    def _expand(cls, root: str | None) -> str | None:
        return None if root is None else os.path.expanduser(os.path.expandvars(root))


class SourceConfig(_DataFields):
    """A dataset a method searches on: a small dataset, a proxy set of a target, or a benchmark table."""

    name: str = Field(min_length=1)
    proxy_of: str | None = None
    classes: int | list[str] | None = None
    per_class: int | None = Field(default=None, ge=1)
    fraction: float | None = Field(default=None, gt=0, le=1)
    resolution: int | None = Field(default=None, ge=4)
    seed: int = 0

    @model_validator(mode="after")
    def _one_origin(self) -> SourceConfig:
        given = [k for k in ("dataset", "proxy_of", "table") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of dataset, proxy_of, table (got {', '.join(given) or 'none'})"
            )
        proxy_fields = [
            k for k in ("classes", "per_class", "fraction", "resolution") if getattr(self, k) is not None
        ]
        if proxy_fields and self.proxy_of is None:
            raise ValueError(f"{', '.join(proxy_fields)} only apply to a proxy_of source")
        if self.per_class is not None and self.fraction is not None:
            raise ValueError("give per_class or fraction, not both")
        return self

    @property
    def kind(self) -> str:
        return "proxy" if self.proxy_of else ("table" if self.table else "dataset")


class MethodConfig(_Section):
    """A search method: a registry name or `module:Class`, its parameters, an optional budget override."""

    name: str = Field(min_length=1)
    label: str | None = Field(default=None, min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    budget: dict[str, Any] = Field(default_factory=dict)

    @property
    def method(self) -> str:
        """What the results call it (`label`, else `name`)."""
        return self.label or self.name


class RandomConfig(_Section):
    """The random-sampling baseline: `n` cells drawn with seeds `seed`, `seed + 1`, ..."""

    n: int = Field(default=0, ge=0)
    seed: int = 0


class TargetConfig(_DataFields):
    """A large dataset (or table) the cells are transferred to, under each named protocol."""

    name: str = Field(min_length=1)
    protocols: list[str] = Field(default_factory=lambda: ["cpu-mini"], min_length=1)
    overrides: dict[str, Any] = Field(default_factory=dict)
    protocol_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    eval_seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)

    @model_validator(mode="after")
    def _one_origin(self) -> TargetConfig:
        if (self.dataset is None) == (self.table is None):
            raise ValueError("give exactly one of dataset, table")
        return self


class EvaluateConfig(_Section):
    """Training every cell on its source too, so source and target rankings can be compared."""

    on_source: bool = True
    source_protocol: str = "cpu-mini"
    source_overrides: dict[str, Any] = Field(default_factory=dict)
    source_eval_seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)


class ExecutorConfig(_Section):
    """Where tasks run: `local` worker processes or a Ray cluster (`address`: "auto" or host:port).

    `nproc_per_task` (and per target, `nproc_per_target`) trains each cell on a target data-parallel
    in that many processes under `torchrun`; source trainings and table look-ups run in one. Like the
    rest of this section it says how the study runs, not what it is, so changing it keeps resuming.
    `max_hours` caps the planned device-hours (CPU- or GPU-hours): `nastransfer run` refuses a
    study whose plan exceeds it unless forced.
    """

    kind: Literal["local", "ray"] = "local"
    workers: int | None = Field(default=None, ge=1)
    address: str | None = None
    retries: int = Field(default=1, ge=0)
    threads_per_worker: int | None = Field(default=None, ge=1)
    gpus_per_task: float = Field(default=0.0, ge=0)
    nproc_per_task: int = Field(default=1, ge=1)
    nproc_per_target: dict[str, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
    max_hours: float | None = Field(default=None, gt=0)

    def target_nproc(self, target: str) -> int:
        """Processes of one training on `target`: its own setting, else `nproc_per_task`."""
        return self.nproc_per_target.get(target, self.nproc_per_task)


class StudyConfig(_Section):
    """One study: sources x methods x seeds, a random baseline, targets x protocols x eval seeds."""

    name: str = Field(min_length=1)
    space: str = "darts"
    split_seed: int = 0
    sources: list[SourceConfig] = Field(min_length=1)
    methods: list[MethodConfig] = Field(default_factory=list)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    random: RandomConfig = Field(default_factory=RandomConfig)
    targets: list[TargetConfig] = Field(default_factory=list)
    budget: dict[str, Any] = Field(default_factory=dict)
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)

    def source(self, name: str) -> SourceConfig:
        return next(s for s in self.sources if s.name == name)

    def target(self, name: str) -> TargetConfig:
        return next(t for t in self.targets if t.name == name)


def load_config(path: str | Path, check_references: bool = True) -> StudyConfig:
    """Read and fully validate a study file; any problem is a one-line ConfigError."""
    path = Path(path)
    where = str(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{where}: no such study file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{where}: cannot read ({err})") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{where}: TOML syntax error: {err}") from None
    return parse_config(raw, where, check_references=check_references)


def parse_config(raw: dict[str, Any], where: str = "<study>", check_references: bool = True) -> StudyConfig:
    """Validate an already-parsed study (e.g. from `study.resolved.json`)."""
    try:
        config = StudyConfig.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        path = key_path(first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        shown = first["type"] not in ("missing", "extra_forbidden") and not isinstance(
            first.get("input", {}), dict
        )
        got = _shown(first["input"]) if shown and "input" in first else ""
        raise ConfigError(f"{where}: {path}: {message}{got}") from None
    _check_names(config, where)
    _check_nproc_names(config, where)
    if check_references:
        _check_references(config, where)
    return config


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


def _shown(value: Any) -> str:
    text = repr(value)
    return f" (got {text if len(text) <= 60 else text[:57] + '...'})"


def _fail(where: str, path: str, message: str) -> ConfigError:
    return ConfigError(f"{where}: {path}: {message}")


def _check_names(config: StudyConfig, where: str) -> None:
    seen: dict[str, str] = {}
    for group in ("sources", "targets"):
        for i, entry in enumerate(getattr(config, group)):
            if entry.name in seen:
                raise _fail(
                    where, f"{group}[{i}].name", f"{entry.name!r} is already the name of {seen[entry.name]}"
                )
            seen[entry.name] = f"{group}[{i}]"
    labels: dict[str, int] = {}
    for i, method in enumerate(config.methods):
        if method.method in labels:
            raise _fail(
                where,
                f"methods[{i}]",
                f"{method.method!r} appears twice (also methods[{labels[method.method]}]); give one a label",
            )
        if method.method == "random":
            raise _fail(
                where, f"methods[{i}].name", "'random' names the sampling baseline; use [random] n = ..."
            )
        labels[method.method] = i
    target_names = {t.name for t in config.targets}
    for i, source in enumerate(config.sources):
        if source.proxy_of is not None and source.proxy_of not in target_names:
            known = ", ".join(sorted(target_names)) or "none"
            raise _fail(
                where, f"sources[{i}].proxy_of", f"no target named {source.proxy_of!r} (targets: {known})"
            )
        if source.proxy_of is not None and config.target(source.proxy_of).table is not None:
            raise _fail(where, f"sources[{i}].proxy_of", f"target {source.proxy_of!r} is a table, not images")


def _check_nproc_names(config: StudyConfig, where: str) -> None:
    """Per-target process counts name image targets of the study."""
    for name, nproc in config.executor.nproc_per_target.items():
        path = f"executor.nproc_per_target.{name}"
        if name not in {t.name for t in config.targets}:
            known = ", ".join(t.name for t in config.targets) or "none"
            raise _fail(where, path, f"no target named {name!r} (targets: {known})")
        if nproc > 1 and config.target(name).table is not None:
            raise _fail(where, path, f"target {name!r} is a table: its look-ups run in one process")


def _check_nproc_batches(config: StudyConfig, where: str) -> None:
    """A data-parallel training splits each batch over its processes: every batch size must divide."""
    from nastransfer.train import get_protocol

    for target in config.targets:
        nproc = config.executor.target_nproc(target.name)
        if nproc == 1 or target.table is not None:
            continue
        path = (
            f"executor.nproc_per_target.{target.name}"
            if target.name in config.executor.nproc_per_target
            else "executor.nproc_per_task"
        )
        for protocol in target.protocols:
            batch = get_protocol(protocol, **target_overrides(target, protocol)).batch_size
            if batch % nproc:
                raise _fail(
                    where,
                    path,
                    f"target {target.name!r} protocol {protocol!r}: batch_size {batch} "
                    f"does not split over {nproc} processes",
                )


def _check_references(config: StudyConfig, where: str) -> None:
    for i, source in enumerate(config.sources):
        if source.dataset is not None:
            check_dataset(source.dataset, source.root, source.options, where, f"sources[{i}]")
        elif source.table is not None:
            check_table(source.table, config.space, where, f"sources[{i}].table")
    for i, target in enumerate(config.targets):
        if target.dataset is not None:
            check_dataset(target.dataset, target.root, target.options, where, f"targets[{i}]")
            _check_override_fields(target.overrides, where, f"targets[{i}].overrides")
            for name, fields in target.protocol_overrides.items():
                _check_override_fields(fields, where, f"targets[{i}].protocol_overrides.{name}")
            for j, protocol in enumerate(target.protocols):
                overrides = target_overrides(target, protocol)
                check_protocol(protocol, overrides, where, f"targets[{i}].protocols[{j}]")
            for name in target.protocol_overrides:
                if name not in target.protocols:
                    raise _fail(
                        where, f"targets[{i}].protocol_overrides.{name}", f"{name!r} is not in protocols"
                    )
        else:
            check_table(target.table, config.space, where, f"targets[{i}].table")
    _check_nproc_batches(config, where)
    _check_space(config, where)
    if config.evaluate.on_source and any(s.table is None for s in config.sources):
        _check_override_fields(config.evaluate.source_overrides, where, "evaluate.source_overrides")
        check_protocol(config.evaluate.source_protocol, config.evaluate.source_overrides, where, "evaluate")
    for i, method in enumerate(config.methods):
        searcher = check_method(method, where, f"methods[{i}]")
        budget = resolve_budget(config, method, where, f"methods[{i}]")
        _check_searcher_budget(searcher, config.space, budget, where, f"methods[{i}]")


def _check_space(config: StudyConfig, where: str) -> None:
    """A registered space, or one that exists only through the study's tables (NAS-Bench-Graph's)."""
    from nastransfer import spaces

    if config.space not in spaces.space_names() and space_table(config) is None:
        known = ", ".join(spaces.space_names())
        raise _fail(
            where, "space", f"unknown search space {config.space!r} (known: {known}, or a table's space)"
        )


def space_table(config: StudyConfig) -> str | None:
    """For a space that is not in `nastransfer.spaces`: the first of the study's tables that holds it."""
    from nastransfer import spaces

    if config.space in spaces.space_names():
        return None
    for table in [s.table for s in config.sources] + [t.table for t in config.targets]:
        if table is not None and _table_space(table) == config.space:
            return table
    return None


def _table_space(name: str) -> str | None:
    try:
        from nastransfer import tabular

        return tabular.get_table(name).space
    except (ImportError, AttributeError, NastransferError):
        return None


def check_dataset(name: str, root: str | None, options: dict[str, Any], where: str, path: str) -> None:
    """The dataset's reader exists and its files (or its Python package) can be found."""
    from nastransfer import data

    if name not in data.dataset_names():
        raise _fail(
            where, f"{path}.dataset", f"unknown dataset {name!r} (known: {', '.join(data.dataset_names())})"
        )
    spec = data.dataset_spec(name)
    accepted = list(inspect.signature(spec.reader).parameters)[3:]  # after (spec, root, train)
    for option in options:
        if option not in accepted:
            known = ", ".join(accepted) or "none"
            raise _fail(
                where,
                f"{path}.options.{option}",
                f"dataset {name!r} takes no option {option!r} (options: {known})",
            )
    if spec.package is not None:
        if importlib.util.find_spec(spec.package) is None:
            raise _fail(where, f"{path}.dataset", f"dataset {name!r} needs the Python package {spec.package}")
        return
    try:
        spec.locate(root)
    except NastransferError as err:
        raise _fail(where, f"{path}.{'root' if root else 'dataset'}", str(err)) from None


def check_table(name: str | None, space: str, where: str, path: str) -> None:
    """The benchmark table can be opened and belongs to the study's space."""
    try:
        from nastransfer import tabular

        table = tabular.get_table(name)
    except (ImportError, AttributeError):
        raise _fail(
            where, path, "benchmark tables need nastransfer.tabular, which is not available"
        ) from None
    except NastransferError as err:
        raise _fail(where, path, str(err)) from None
    table_space = getattr(table, "space", space)
    if table_space != space:
        raise _fail(
            where, path, f"table {name!r} holds {table_space} cells but the study's space is {space!r}"
        )


def check_protocol(name: str, overrides: dict[str, Any], where: str, path: str) -> None:
    from nastransfer.train import get_protocol

    try:
        get_protocol(name, **overrides)
    except NastransferError as err:
        raise _fail(where, path, str(err)) from None


def _check_override_fields(overrides: dict[str, Any], where: str, path: str) -> None:
    """An override of a field no protocol has is named at its own key."""
    from nastransfer.train import Protocol

    for field in overrides:
        if field not in Protocol.model_fields:
            raise _fail(where, f"{path}.{field}", f"training protocols have no field {field!r}")


def check_method(method: MethodConfig, where: str, path: str) -> Any:
    """The searcher exists (registry, plugin or module:Class) and accepts the method's params."""
    from nastransfer.study.work import make_searcher

    try:
        return make_searcher(method.name, method.params)
    except NastransferError as err:
        raise _fail(where, f"{path}.name", str(err)) from None
    except (TypeError, ValueError) as err:
        raise _fail(where, f"{path}.params", f"searcher {method.name!r} rejects its params ({err})") from None


def _check_searcher_budget(searcher: Any, space: str, budget: dict[str, Any], where: str, path: str) -> None:
    """A method that can say which budgets it cannot run (too few cells, channels not divisible) does."""
    from nastransfer.search import Budget

    check = getattr(searcher, "check", None)
    if check is None:
        return
    try:
        check(space, Budget.from_dict(budget))
    except NastransferError as err:
        raise _fail(where, f"{path}.budget", str(err)) from None


def target_overrides(target: TargetConfig, protocol: str) -> dict[str, Any]:
    """Protocol overrides of one target: the common ones, then the protocol's own."""
    return {**target.overrides, **target.protocol_overrides.get(protocol, {})}


def resolve_budget(config: StudyConfig, method: MethodConfig, where: str, path: str) -> dict[str, Any]:
    """The method's search budget: the published one of its name, then [budget], then its own override."""
    from nastransfer.search import Budget

    fields = {**config.budget, **method.budget}
    try:
        if {"epochs", "channels", "layers", "batch_size"} <= set(fields):
            budget = Budget.from_dict(fields)
        else:
            budget = Budget.paper(method.name).replace(**fields)
    except NastransferError as err:
        named = re.findall(r"\b(\w+)\b", str(err))
        field = next((word for word in named if word in fields), "")
        owner = f"{path}.budget" if field in method.budget else "budget"
        raise _fail(where, f"{owner}.{field}" if field else owner, str(err)) from None
    except TypeError as err:
        raise _fail(where, f"{path}.budget", f"incomplete budget ({err})") from None
    return budget.to_dict()
