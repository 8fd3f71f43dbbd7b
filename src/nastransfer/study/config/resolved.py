"""The study as it will run: every budget, protocol and data spec worked out once from the config.

`resolve(config)` turns a validated `StudyConfig` into a `ResolvedStudy`: per method its searcher,
params and full budget (the class's published one, changed by `[budget]`, then by the method's
own; it does not depend on the source), per target and protocol the overrides the task keys hold
and the `Protocol` they give, and the data spec of every source, proxy set and target. The planner,
the runner, the preflight data checks and the cost plan read this object; none of them resolves a
budget or a protocol again, and the workers receive what it holds in their task specs.

`study.config.validation.load_study(path)` is the one entry: read, validate, resolve (here), then check
what needs the resolved values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from nastransfer.errors import ConfigError
from nastransfer.study.config.checks import check_protocol, space_table
from nastransfer.study.config.schema import ExecutorConfig, SourceConfig, StudyConfig, TargetConfig

if TYPE_CHECKING:
    from nastransfer.study.config.fidelity import FidelityConfig
    from nastransfer.train import Protocol

#: The protocol name of a table look-up (tables hold results: nothing is trained).
TABLE_PROTOCOL = "table"


@dataclass(frozen=True)
class ResolvedMethod:
    """A search method as its tasks run it: results name, searcher, params, the whole budget."""

    method: str
    searcher: str
    params: dict[str, Any]
    budget: dict[str, Any]  # `Budget.to_dict()`: what a search task's key and its worker hold


@dataclass(frozen=True)
class ResolvedSetting:
    """One way a cell is evaluated on some data: a protocol with its overrides, or a table look-up."""

    protocol: str
    overrides: dict[str, Any]  # as given (merged per target): the task keys hold these, not `resolved`
    resolved: Protocol | None  # None for a table look-up


@dataclass(frozen=True)
class ResolvedSource:
    """A source's name, kind (`dataset`, `proxy`, `table`), the data spec a worker loads, and how
    cells are evaluated on it, one setting per source protocol (none when `[evaluate] on_source` is off)."""

    name: str
    kind: str
    data: dict[str, Any]
    settings: tuple[ResolvedSetting, ...]


@dataclass(frozen=True)
class ResolvedTarget:
    """A target's data spec, its settings (one per protocol) and eval seeds."""

    name: str
    data: dict[str, Any]
    settings: tuple[ResolvedSetting, ...]
    eval_seeds: tuple[int, ...]

    @property
    def is_table(self) -> bool:
        return self.data["kind"] == "table"


@dataclass(frozen=True)
class ResolvedStudy:
    """A validated study with everything its tasks need worked out; `config` is the file's schema."""

    config: StudyConfig
    methods: tuple[ResolvedMethod, ...]
    sources: tuple[ResolvedSource, ...]
    targets: tuple[ResolvedTarget, ...]
    #: How found and random cells are evaluated on image sources (empty: `on_source` off, or tables only).
    source_settings: tuple[ResolvedSetting, ...]
    #: For a space that exists only through a table (NAS-Bench-Graph's): the table random cells come from.
    random_table: str | None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def space(self) -> str:
        return self.config.space

    @property
    def seeds(self) -> list[int]:
        return self.config.seeds

    @property
    def split_seed(self) -> int:
        return self.config.split_seed

    @property
    def executor(self) -> ExecutorConfig:
        return self.config.executor

    @property
    def fidelity(self) -> FidelityConfig | None:
        return self.config.fidelity

    def source(self, name: str) -> ResolvedSource:
        return next(s for s in self.sources if s.name == name)

    def with_executor(self, executor: ExecutorConfig) -> ResolvedStudy:
        """The same study run elsewhere (the CLI's --executor/--workers): nothing else changes."""
        return replace(self, config=self.config.model_copy(update={"executor": executor}))


def resolve(config: StudyConfig, where: str = "<study>") -> ResolvedStudy:
    """Budgets, protocols and data specs of a study whose shape and references are valid.

    A budget or protocol that cannot be built is a ConfigError at its key of file `where`.
    """
    evaluate = config.evaluate
    on_source = evaluate.on_source and any(s.table is None for s in config.sources)
    source_settings: list[ResolvedSetting] = []
    for name in evaluate.protocols if on_source else []:
        overrides = {**evaluate.source_overrides, **evaluate.source_protocol_overrides.get(name, {})}
        protocol = check_protocol(name, overrides, where, "evaluate")
        source_settings.append(ResolvedSetting(name, overrides, protocol))
    table_settings = (ResolvedSetting(TABLE_PROTOCOL, {}, None),) if evaluate.on_source else ()
    sources = tuple(
        ResolvedSource(
            s.name,
            s.kind,
            data_spec(config, s),
            table_settings if s.table is not None else tuple(source_settings),
        )
        for s in config.sources
    )
    return ResolvedStudy(
        config=config,
        methods=tuple(_method(config, i, where) for i in range(len(config.methods))),
        sources=sources,
        targets=tuple(_target(config, i, where) for i in range(len(config.targets))),
        source_settings=tuple(source_settings),
        random_table=space_table(config),
    )


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


def _method(config: StudyConfig, index: int, where: str) -> ResolvedMethod:
    """The method's budget: its class's published one, changed by [budget], then by its own.

    A method whose class publishes none (a plugin may not) needs every required field given; a
    field's error is placed at the section that gave it.
    """
    from nastransfer.search import method_budget

    method = config.methods[index]
    path = f"methods[{index}]"
    try:
        budget = method_budget(method.name, {**config.budget, **method.budget})
    except ConfigError as err:
        owner = "budget" if err.field is not None and err.field not in method.budget else f"{path}.budget"
        raise err.at(where, owner) from None
    return ResolvedMethod(method.method, method.name, method.params, budget.to_dict())


def _target(config: StudyConfig, index: int, where: str) -> ResolvedTarget:
    """A table target is looked up once per eval seed; an image target trains under each protocol."""
    target = config.targets[index]
    settings = [ResolvedSetting(TABLE_PROTOCOL, {}, None)] if target.table is not None else []
    for j, name in enumerate(target.protocols if target.table is None else []):
        overrides = {**target.overrides, **target.protocol_overrides.get(name, {})}
        protocol = check_protocol(name, overrides, where, f"targets[{index}].protocols[{j}]")
        settings.append(ResolvedSetting(name, overrides, protocol))
    return ResolvedTarget(target.name, data_spec(config, target), tuple(settings), tuple(target.eval_seeds))
