"""The open registry of search spaces: a space registers once, and every other package asks here.

A `Space` is plain data and functions: its genotype type, ops, text form (parse / format),
sampling and moves, canonical keys, and optional hooks for what other packages build from it
(evaluation network, supernet, the layout a protocol's depth gives). Net builders are named as
`"module:function"` strings (or callables), resolved on first use, so `spaces` imports no torch.
A space from outside the package registers with `register_space`, or as an installed plugin: an
entry point of the group `nastransfer.spaces` naming its `Space` (loaded on the first lookup, so
a study's worker processes find it too).
"""

from __future__ import annotations

import importlib
import inspect
import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nastransfer.errors import GenotypeError
from nastransfer.registry import Registry

Builder = str | Callable[..., Any]
ENTRY_POINT_GROUP = "nastransfer.spaces"


@dataclass(frozen=True)
class Diagram:
    """One cell as a graph for `nastransfer genotype show` and `plot`: edges (from, to, op)."""

    title: str
    inputs: tuple[str, ...]
    edges: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class Space:
    """What callers need of a space without knowing which one it is.

    `key` names a genotype (the results frame's `cell`); `canonical_key` is equal for genotypes
    that compute the same network (a training is shared by them). `recognises` tells `parse_any`
    that a piece of text is this space's; `text_help` says what that text looks like.
    `eval_net(genotype, C=, num_classes=, in_channels=, **layout)` and `supernet(C=, num_classes=,
    in_channels=, form=, **layout)` are the nets; `depth_keyword` is the keyword a budget's or the
    CLI's `layers` becomes; `layout_for_depth(layers)` maps a protocol's total cells to the
    evaluation net's layout; `protocol_options` are the protocol settings its evaluation net takes
    (of `stem`, `auxiliary`, `drop_path`); `min_search_layers` is the smallest supernet depth;
    `supernet_depth_period` is `(period, from_depth)` where a supernet's multiply-adds are affine in
    its depth within each residue class of the depth mod `period` from `from_depth` cells on (the
    cost plan counts a deep supernet at two shallower depths and extrapolates; None: count it whole);
    `sample_path` draws a cell as weight-sharing search does (every op, `none` too);
    `subspace(ops)` is the space over a subset of its ops (a table trained on fewer ops).
    """

    name: str
    genotype_type: type
    ops: tuple[str, ...]
    parse: Callable[[str], Any]
    sample: Callable[[int], Any]
    mutate: Callable[[Any, int], Any]
    neighbours: Callable[[Any], list]
    recognises: Callable[[str], bool]
    text_help: str
    format: Callable[[Any], str] = str
    key: Callable[[Any], str] = operator.attrgetter("key")
    canonical_key: Callable[[Any], str] | None = None
    from_dict: Callable[[dict], Any] | None = None
    diagrams: Callable[[Any], list[Diagram]] | None = None
    eval_net: Builder | None = None
    supernet: Builder | None = None
    depth_keyword: str = "layers"
    layout_for_depth: Callable[[int], dict[str, int]] | None = None
    protocol_options: tuple[str, ...] = ()
    net_defaults: tuple[tuple[str, int], ...] = ()
    min_search_layers: int = 1
    supernet_depth_period: tuple[int, int] | None = None
    sample_path: Callable[[int], Any] | None = None
    subspace: Callable[[tuple[str, ...]], Space] | None = None

    def network_key(self, genotype: Any) -> str:
        """The key shared by every genotype that computes the same network."""
        return (self.canonical_key or self.key)(genotype)

    def layout(self, layers: int) -> dict[str, int]:
        """The evaluation net's layout keywords for a protocol of `layers` cells in all."""
        if self.layout_for_depth is None:
            return {self.depth_keyword: layers}
        return self.layout_for_depth(layers)

    def draw_path(self, seed: int) -> Any:
        """A cell as weight-sharing search draws one (the space's own sampler unless it says otherwise)."""
        return (self.sample_path or self.sample)(seed)

    def build_eval_net(self, genotype: Any, **kwargs: Any) -> Any:
        """The evaluation network of `genotype` (a torch module)."""
        if self.eval_net is None:
            raise GenotypeError(f"search space {self.name!r} has no evaluation network")
        return _resolve(self.eval_net)(genotype, **kwargs)

    def eval_net_keywords(self) -> tuple[str, ...]:
        """The keywords its evaluation network takes after the genotype (C, N, layers, num_classes, ...)."""
        if self.eval_net is None:
            return ()
        params = list(inspect.signature(_resolve(self.eval_net)).parameters.values())[1:]
        return tuple(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))

    def build_supernet(self, **kwargs: Any) -> Any:
        """The space's supernet (a torch module) built with `kwargs`."""
        if self.supernet is None:
            raise GenotypeError(f"search space {self.name!r} has no supernet")
        return _resolve(self.supernet)(**kwargs)

    def restricted(self, ops: Sequence[str] | None) -> Space:
        """This space over a subset of its ops (what a table covers), or itself for None or all ops."""
        if ops is None or tuple(ops) == self.ops:
            return self
        if self.subspace is None:
            raise GenotypeError(f"search space {self.name!r} cannot be restricted to ops {', '.join(ops)}")
        return self.subspace(tuple(ops))


def _resolve(builder: Builder) -> Callable[..., Any]:
    if callable(builder):
        return builder
    module, _, name = builder.partition(":")
    return getattr(importlib.import_module(module), name)


def _admit(name: str, loaded: Any) -> Space:
    """An installed plugin's space: its entry point must name a `Space` called as the entry point."""
    if not isinstance(loaded, Space) or loaded.name != name:
        raise GenotypeError(f"search space plugin {name!r} must name a Space called {name!r}")
    return loaded


SPACES: Registry[Space] = Registry("search space", GenotypeError, plugins=ENTRY_POINT_GROUP, admit=_admit)


def register_space(space: Space) -> Space:
    """Add `space` to the registry (from `spaces/`, a test or a plugin); a taken name is an error."""
    return SPACES.add(space.name, space)


def unregister_space(name: str) -> None:
    """Remove a space registered from outside the package (a test's teardown)."""
    SPACES.remove(name)


def space_names() -> list[str]:
    return SPACES.names()


def get_space(name: str) -> Space:
    return SPACES.get(name)


def space_of(genotype: object) -> Space:
    """The space a genotype object belongs to."""
    for _ in range(2):  # the registered spaces, then again with any plugin loaded
        for space in SPACES.loaded():
            if isinstance(genotype, space.genotype_type):
                return space
        if not SPACES.load_plugins():
            break
    known = ", ".join(space_names())
    raise GenotypeError(f"{type(genotype).__name__} is not a genotype of any space ({known})")


def parse_any(text: str) -> Any:
    """The cell `text` stands for, in the first registered space that recognises it."""
    stripped = text.strip()
    for _ in range(2):  # the registered spaces, then again with any plugin loaded
        for space in SPACES.loaded():
            if space.recognises(stripped):
                return space.parse(stripped)
        if not SPACES.load_plugins():
            break
    shown = stripped if len(stripped) <= 60 else stripped[:57] + "..."
    forms = [space.text_help for space in SPACES.loaded()]
    listed = ", ".join(forms[:-1]) + (", or " if len(forms) > 1 else "") + forms[-1]
    raise GenotypeError(f"{shown!r} is not {listed}")


def load_genotype(spec: Any) -> Any:
    """A genotype itself, `parse_any(spec)`, or, when `spec` names a file, its text or `to_dict()` JSON.

    The one reader of a user's cell for every command and evaluator.
    """
    if not isinstance(spec, str):
        space_of(spec)  # a GenotypeError for anything that is not a genotype
        return spec
    path = Path(spec)
    try:
        is_file = path.is_file()
    except (OSError, ValueError):  # text too long or odd (a NUL) to be a path
        is_file = False
    if not is_file:
        return parse_any(spec)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise GenotypeError(f"cannot read genotype file {path}: {err}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    try:
        if isinstance(data, dict):
            return _from_dict(data)
        return parse_any(text)
    except GenotypeError as err:
        raise GenotypeError(f"{path}: {err}") from None


def _from_dict(data: dict) -> Any:
    """The genotype of the first space with a JSON form that reads `data`."""
    readers = [space.from_dict for space in SPACES.loaded() if space.from_dict is not None]
    for reader in readers[:-1]:
        try:
            return reader(data)
        except GenotypeError:
            continue
    if not readers:
        raise GenotypeError("no search space reads a genotype from JSON")
    return readers[-1](data)
