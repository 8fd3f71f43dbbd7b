"""The study config: a TOML file, validated in full before anything runs.

`load_config(path)` parses the TOML, checks its shape with pydantic (unknown keys and wrong types
are errors), then checks every reference against the packages that own it: search methods against
the search registry, protocols and overrides against `train.get_protocol`, budgets against
`search.Budget`, datasets against the data readers (a missing dataset is found here, before any
run directory exists) and tables against `tabular`. Every problem is a one-line `ConfigError`
naming the file, the key path (`methods[2].name`) and what is wrong.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nastransfer.errors import ConfigError, NastransferError
from nastransfer.study.checks import (
    check_dataset,
    check_override_fields,
    check_protocol,
    check_table,
    fail,
    table_space,
)
from nastransfer.study.fidelity_config import FidelityConfig, check_fidelity

TABLE_PROTOCOL = "table"
MAX_NAME = 100  # names become directory and figure file names
MAX_RANDOM = 100_000  # random-baseline cells: each is a task row and a training per setting

#: Seeds feed numpy and torch generators, which take 0 <= seed < 2**32.
Seed = Annotated[int, Field(ge=0, lt=2**32)]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]


SAFE_NAME = re.compile(r"[\w.\- ]+")


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

    name: Name
    proxy_of: str | None = None
    classes: Annotated[int, Field(ge=1)] | list[str] | None = None
    per_class: int | None = Field(default=None, ge=1)
    fraction: float | None = Field(default=None, gt=0, le=1)
    resolution: int | None = Field(default=None, ge=4, le=1024)
    seed: Seed = 0

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

    n: int = Field(default=0, ge=0, le=MAX_RANDOM)
    seed: Seed = 0


class TargetConfig(_DataFields):
    """A large dataset (or table) the cells are transferred to, under each named protocol."""

    name: Name
    protocols: list[str] = Field(default_factory=lambda: ["cpu-mini"], min_length=1)
    overrides: dict[str, Any] = Field(default_factory=dict)
    protocol_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    eval_seeds: list[Seed] = Field(default_factory=lambda: [0], min_length=1)

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
    source_eval_seeds: list[Seed] = Field(default_factory=lambda: [0], min_length=1)


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

    name: Name
    space: str = "darts"
    split_seed: Seed = 0
    sources: list[SourceConfig] = Field(min_length=1)
    methods: list[MethodConfig] = Field(default_factory=list)
    seeds: list[Seed] = Field(default_factory=lambda: [0], min_length=1)
    random: RandomConfig = Field(default_factory=RandomConfig)
    targets: list[TargetConfig] = Field(default_factory=list)
    budget: dict[str, Any] = Field(default_factory=dict)
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    fidelity: FidelityConfig | None = None

    @field_validator("name")
    @classmethod
    def _not_a_path(cls, name: str) -> str:
        """The name is the default run directory's (`runs/NAME`): it must not reach outside `runs/`."""
        if not SAFE_NAME.fullmatch(name) or set(name) <= {"."}:
            raise ValueError("a study name may hold letters, digits, '.', '_', '-' and spaces, not a path")
        return name

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
    _check_finite(raw, where, ())
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
        if config.fidelity is not None:
            check_fidelity(config, where)
    return config


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
                raise fail(
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
            check_override_fields(target.overrides, where, f"targets[{i}].overrides")
            for name, fields in target.protocol_overrides.items():
                check_override_fields(fields, where, f"targets[{i}].protocol_overrides.{name}")
            for j, protocol in enumerate(target.protocols):
                overrides = target_overrides(target, protocol)
                check_protocol(protocol, overrides, where, f"targets[{i}].protocols[{j}]")
            for name in target.protocol_overrides:
                if name not in target.protocols:
                    raise fail(
                        where, f"targets[{i}].protocol_overrides.{name}", f"{name!r} is not in protocols"
                    )
        else:
            check_table(target.table, config.space, where, f"targets[{i}].table")
    _check_nproc_batches(config, where)
    _check_space(config, where)
    if config.evaluate.on_source and any(s.table is None for s in config.sources):
        check_override_fields(config.evaluate.source_overrides, where, "evaluate.source_overrides")
        check_protocol(config.evaluate.source_protocol, config.evaluate.source_overrides, where, "evaluate")
    for i, method in enumerate(config.methods):
        searcher = check_method(method, where, f"methods[{i}]")
        budget = resolve_budget(config, method, where, f"methods[{i}]")
        _check_searcher_budget(searcher, config.space, budget, where, f"methods[{i}]")


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


def space_table(config: StudyConfig) -> str | None:
    """For a space a table may cover only part of (NAS-Bench-Graph's): the first of the study's
    tables that holds it, whose part the random baseline draws from."""
    from nastransfer import spaces

    if spaces.get_space(config.space).subspace is None:
        return None
    for table in [s.table for s in config.sources] + [t.table for t in config.targets]:
        if table is not None and table_space(table) == config.space:
            return table
    return None







def check_method(method: MethodConfig, where: str, path: str) -> Any:
    """The searcher exists (registry, plugin or module:Class) and accepts the method's params."""
    from nastransfer.study.work import searcher_factory

    try:
        factory = searcher_factory(method.name)
    except NastransferError as err:
        raise fail(where, f"{path}.name", str(err)) from None
    try:
        return factory(**method.params)
    except NastransferError as err:
        raise fail(where, f"{path}.params", str(err)) from None
    except (TypeError, ValueError) as err:
        raise fail(where, f"{path}.params", f"searcher {method.name!r} rejects its params ({err})") from None


def _check_searcher_budget(searcher: Any, space: str, budget: dict[str, Any], where: str, path: str) -> None:
    """The method says which budgets it cannot run (too few cells, channels not divisible)."""
    from nastransfer.search import Budget

    try:
        searcher.check(space, Budget.from_dict(budget))
    except NastransferError as err:
        raise fail(where, f"{path}.budget", str(err)) from None


def target_overrides(target: TargetConfig, protocol: str) -> dict[str, Any]:
    """Protocol overrides of one target: the common ones, then the protocol's own."""
    return {**target.overrides, **target.protocol_overrides.get(protocol, {})}


def resolve_budget(config: StudyConfig, method: MethodConfig, where: str, path: str) -> dict[str, Any]:
    """The method's search budget: its class's published one, changed by [budget], then by its own.

    A method whose class publishes none (a plugin may not) needs every required field given.
    """
    from nastransfer.search import method_budget

    fields = {**config.budget, **method.budget}
    try:
        budget = method_budget(method.name, fields)
    except NastransferError as err:
        named = re.findall(r"\b(\w+)\b", str(err))
        field = next((word for word in named if word in fields), "")
        owner = f"{path}.budget" if field in method.budget else "budget"
        raise fail(where, f"{owner}.{field}" if field else owner, str(err)) from None
    return budget.to_dict()
