"""The study file's schema: its sections, fields, types, defaults and the checks one field needs.

Pydantic models only, importing no other nastransfer package (but `[fidelity]`'s section), so that
the shape of a study is read in one place. What a field means to another package (a method's
params, a protocol's overrides, a dataset's files) is checked in `study.config.validation`; what the
study will run with (budgets, protocols, data specs) is worked out once in `study.config.resolved`.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nastransfer.study.config.fidelity import FidelityConfig

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
    """The random-sampling baseline: `n` cells drawn with seeds `seed`, `seed + 1`, ...

    Every one is evaluated on every target; `source_cells` (default all) says how many of them, the
    first ones, are also trained on every source: a table target's baseline of hundreds of cells costs
    nothing, their source trainings would cost the most of the study.
    """

    n: int = Field(default=0, ge=0, le=MAX_RANDOM)
    seed: Seed = 0
    source_cells: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _at_most_n(self) -> RandomConfig:
        if self.source_cells is not None and self.source_cells > self.n:
            raise ValueError(f"source_cells ({self.source_cells}) is more than n ({self.n})")
        return self

    @property
    def on_source(self) -> int:
        """How many random cells are trained on every source."""
        return self.n if self.source_cells is None else self.source_cells


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
    """Training every cell on its source too, so source and target rankings can be compared.

    `source_protocols` trains the cells on their sources under several protocols (the small-dataset
    side of the protocol question), like a target's `protocols`; `source_protocol` names one.
    """

    on_source: bool = True
    source_protocol: str = "cpu-mini"
    source_protocols: list[str] | None = Field(default=None, min_length=1)
    source_overrides: dict[str, Any] = Field(default_factory=dict)
    source_protocol_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    source_eval_seeds: list[Seed] = Field(default_factory=lambda: [0], min_length=1)

    @model_validator(mode="after")
    def _one_protocol_key(self) -> EvaluateConfig:
        if self.source_protocols is not None and "source_protocol" in self.model_fields_set:
            raise ValueError("give source_protocol or source_protocols, not both")
        if self.source_protocols is not None and len(set(self.source_protocols)) < len(self.source_protocols):
            raise ValueError("source_protocols names a protocol twice")
        return self

    @property
    def protocols(self) -> list[str]:
        """The protocols every cell is trained under on its source, base one first as given."""
        return self.source_protocols if self.source_protocols is not None else [self.source_protocol]


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

    def target(self, name: str) -> TargetConfig:
        return next(t for t in self.targets if t.name == name)
