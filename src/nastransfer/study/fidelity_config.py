"""The `[fidelity]` section of a study: K cells of a target table scored by cheap proxies.

A zero-cost proxy's `predictors` may name votes (`vote:synflow,naswot`) and learned models
(`learned:synflow,naswot`, fitted on `labels` of the proxy's cells and scoring the others).

A study with this section measures how well each proxy ranks the cells as the target does (see
`analysis.fidelity`). Proxies name their data by a `[[sources]]` entry (a dataset, a proxy set of
one, or a table), so data is declared and checked once; `cells` caps a costly proxy to the first
cells of the seeded sample (itself a uniform sample). Checked in full before anything runs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator

from nastransfer.errors import ConfigError
from nastransfer.study.checks import check_protocol, check_table, fail

ZERO_COST, TRAIN, SUPERNET, TABLE = "zero-cost", "train", "supernet", "table"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class FidelityProxyConfig(_Strict):
    """One proxy family on one source: predictors, a short training, a supernet, or another table."""

    kind: Literal["zero-cost", "train", "supernet", "table"]
    source: str = ""
    cells: int | None = Field(default=None, ge=3)
    predictors: list[str] = Field(default_factory=list)
    batch_size: int = Field(default=64, ge=2)
    net: dict[str, int] = Field(default_factory=lambda: {"C": 16, "N": 5})
    protocol: str = "cpu-mini"
    overrides: dict[str, Any] = Field(default_factory=dict)
    budget: dict[str, Any] = Field(default_factory=dict)
    cost_per_cell_s: float | None = Field(default=None, ge=0)
    #: Labelled cells a `learned:...` predictor is fitted on (None: 100, NAS-Bench-Suite-Zero's).
    labels: int | None = Field(default=None, ge=2)

    @model_serializer(mode="wrap")
    def _without_unset_labels(self, handler: Any) -> dict[str, Any]:
        """`labels` only where given: studies without learned proxies keep their resolved identity."""
        record = handler(self)
        if record.get("labels", 0) is None:
            del record["labels"]
        return record

    @model_validator(mode="after")
    def _fields_of_kind(self) -> FidelityProxyConfig:
        if self.kind == ZERO_COST and not self.predictors:
            raise ValueError('a zero-cost proxy needs predictors (e.g. ["synflow", "params"])')
        if self.kind != ZERO_COST and self.predictors:
            raise ValueError(f"predictors only apply to zero-cost proxies, not {self.kind}")
        if self.kind != ZERO_COST and not self.source:
            raise ValueError(f"a {self.kind} proxy needs a source")
        if self.labels is not None and not any(p.startswith("learned:") for p in self.predictors):
            raise ValueError("labels only apply to learned predictors (learned:a,b)")
        if self.kind == TABLE and self.cost_per_cell_s is None:
            raise ValueError("a table proxy needs cost_per_cell_s (a stated stand-in: tables hold no cost)")
        return self


class FidelityConfig(_Strict):
    """Target table(s), K cells and their seed, the proxies, and the bootstrap of the fidelity statistics.

    With several targets each gets its own K cells and every proxy scores them; a table proxy is
    left out against itself (so each of NAS-Bench-Graph's datasets can be a proxy for every other).
    """

    target: str | list[str]
    cells: int = Field(ge=3)
    seed: int = 0
    n_boot: int = Field(default=1000, ge=0)
    chunk: int = Field(default=250, ge=1)
    proxies: list[FidelityProxyConfig] = Field(min_length=1)

    @property
    def targets(self) -> list[str]:
        return [self.target] if isinstance(self.target, str) else list(self.target)

    @model_validator(mode="after")
    def _some_target(self) -> FidelityConfig:
        if not self.targets or not all(self.targets):
            raise ValueError("give a target table (or a list of them)")
        return self


def check_fidelity(config: Any, where: str) -> None:
    """Every name a `[fidelity]` section uses: target table, sources, predictors, protocols, budgets."""
    from nastransfer.proxies.learned import DEFAULT_LABELS, check_labels, is_learned
    from nastransfer.proxies.zero_cost import needs_data
    from nastransfer.search import Budget

    section = config.fidelity
    for i, target in enumerate(section.targets):
        check_table(target, config.space, where, f"fidelity.target[{i}]")
    names = {s.name: s for s in config.sources}
    for i, proxy in enumerate(section.proxies):
        path = f"fidelity.proxies[{i}]"
        if proxy.source and proxy.source not in names:
            raise fail(where, f"{path}.source", f"{proxy.source!r} names no source of the study")
        is_table = bool(proxy.source) and names[proxy.source].table is not None
        if is_table != (proxy.kind == TABLE):
            raise fail(where, f"{path}.source", f"a {proxy.kind} proxy cannot use source {proxy.source!r}")
        for j, name in enumerate(proxy.predictors):
            try:
                reads_images = needs_data(name)
                if is_learned(name):
                    check_labels(
                        proxy.labels or DEFAULT_LABELS, min(proxy.cells or section.cells, section.cells)
                    )
            except ConfigError as err:
                raise fail(where, f"{path}.predictors[{j}]", str(err)) from None
            if not proxy.source and reads_images:
                raise fail(where, f"{path}.predictors[{j}]", f"{name} reads images: give the proxy a source")
        if proxy.kind == TRAIN:
            check_protocol(proxy.protocol, proxy.overrides, where, f"{path}.protocol")
        if proxy.kind == SUPERNET:
            try:
                Budget.paper("rsws").replace(**proxy.budget)
            except ConfigError as err:
                raise err.at(where, f"{path}.budget") from None
            except Exception as err:  # a TypeError of a wrong value
                raise fail(where, f"{path}.budget", str(err)) from None
