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
from nastransfer.proxies.task import SUPERNET, TABLE, TRAIN, ZERO_COST
from nastransfer.study.config.checks import check_protocol, check_table, fail

#: What each proxy kind reads besides `kind`, `source` and `cells`: any other field given is refused.
KIND_FIELDS = {
    ZERO_COST: ("predictors", "batch_size", "net", "labels"),
    TRAIN: ("protocol", "overrides"),
    SUPERNET: ("budget",),
    TABLE: ("cost_per_cell_s",),
}
_COMMON_FIELDS = {"kind", "source", "cells"}
#: What the predictors of a zero-cost proxy may hold: 4 bytes x (4 x parameters: weights, gradients
#: and two per-parameter score buffers; + 2 x activations of one forward at the batch size: kept for
#: the backward, and their gradients). 16 GiB fits one GPU or workstation; the published sizes need
#: far less (NB201 C=16 N=5 at batch 64: 0.8 GB by this count).
MEMORY_BOUND = 16 * 2**30


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class FidelityProxyConfig(_Strict):
    """One proxy family on one source: predictors, a short training, a supernet, or another table."""

    kind: Literal[ZERO_COST, TRAIN, SUPERNET, TABLE]
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
    seed: int = Field(default=0, ge=0, lt=2**32)  # a generator seed, as the study's `Seed`
    n_boot: int = Field(default=1000, ge=1, le=100_000)
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
    from nastransfer.search import published_budget

    section = config.fidelity
    for i, target in enumerate(section.targets):
        check_table(target, config.space, where, f"fidelity.target[{i}]")
    names = {s.name: s for s in config.sources}
    for i, proxy in enumerate(section.proxies):
        path = f"fidelity.proxies[{i}]"
        unused = sorted(proxy.model_fields_set - _COMMON_FIELDS - set(KIND_FIELDS[proxy.kind]))
        if unused:
            reads = ", ".join(KIND_FIELDS[proxy.kind])
            message = f"does not apply to a {proxy.kind} proxy (it reads {reads})"
            raise fail(where, f"{path}.{unused[0]}", message)
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
        if proxy.kind == ZERO_COST:
            check_proxy_net(config.space, proxy, section.targets[0], section.seed, where, f"{path}.net")
        if proxy.kind == TRAIN:
            check_protocol(proxy.protocol, proxy.overrides, where, f"{path}.protocol")
        if proxy.kind == SUPERNET:
            try:
                published_budget("rsws").replace(**proxy.budget)
            except ConfigError as err:
                raise err.at(where, f"{path}.budget") from None
            except Exception as err:  # a TypeError of a wrong value
                raise fail(where, f"{path}.budget", str(err)) from None


def check_proxy_net(
    space: str, proxy: FidelityProxyConfig, target: str, seed: int, where: str, path: str
) -> None:
    """The proxy's `net` sizes are keywords of the space's evaluation network, each >= 1, and the
    network they make stays within MEMORY_BOUND: counted on torch's meta device (no memory), on a
    cell sampled by the seed and the target's input shape, before anything is allocated."""
    from nastransfer import spaces
    from nastransfer.nets import meta_footprint
    from nastransfer.proxies.cells import table_input

    chosen = spaces.get_space(space)
    sizes = [k for k in chosen.eval_net_keywords() if k not in ("num_classes", "in_channels")]
    for key, value in proxy.net.items():
        if key not in sizes:
            known = ", ".join(sizes) or "none"
            message = f"the {space} evaluation network takes no {key!r} (sizes: {known})"
            raise fail(where, f"{path}.{key}", message)
        if value < 1:
            raise fail(where, f"{path}.{key}", f"a network size must be >= 1, got {value}")
    shape, classes = table_input(target)
    cell = chosen.sample(seed)
    try:
        params, activations = meta_footprint(
            lambda: chosen.build_eval_net(cell, num_classes=classes, in_channels=shape[0], **proxy.net),
            (proxy.batch_size, *shape),
        )
    except (TypeError, ValueError) as err:  # a keyword the network takes but not as a plain size
        raise fail(where, path, f"the {space} evaluation network refuses {proxy.net} ({err})") from None
    need = 4 * (4 * params + 2 * activations)
    if need > MEMORY_BOUND:
        raise fail(
            where,
            path,
            f"{proxy.net} at batch {proxy.batch_size} needs about {need / 2**30:,.0f} GiB for the predictors "
            f"({params:,} parameters, {activations:,} activations), above the "
            f"{MEMORY_BOUND // 2**30} GiB bound",
        )
