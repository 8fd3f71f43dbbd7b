"""The `Searcher` interface every NAS method implements, and the `SearchResult` it returns."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from nastransfer.data import Splits
from nastransfer.runtime import Cost
from nastransfer.search.budget import Budget
from nastransfer.search.params import Param
from nastransfer.spaces import get_space, parse_any, space_of


@dataclass(frozen=True)
class SearchResult:
    """The cell a search found (a genotype of a registered space), its per-epoch history, what it
    cost, and the budget it ran with."""

    genotype: Any
    history: list[dict[str, Any]]
    cost: Cost
    budget: Budget
    method: str = ""
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: genotype text, space, method, seed, history, cost and budget."""
        space = space_of(self.genotype)
        return {
            "genotype": space.format(self.genotype),
            "space": space.name,
            "method": self.method,
            "seed": self.seed,
            "history": self.history,
            "cost": self.cost.to_dict(),
            "budget": self.budget.to_dict(),
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchResult:
        """Read `to_dict()`'s data back (the genotype by its space's parser; text alone is recognised)."""
        parse = get_space(data["space"]).parse if "space" in data else parse_any
        return cls(
            genotype=parse(data["genotype"]),
            history=list(data["history"]),
            cost=Cost.from_dict(data["cost"]),
            budget=Budget.from_dict(data["budget"]),
            method=data.get("method", ""),
            seed=int(data.get("seed", 0)),
            extra=dict(data.get("extra", {})),
        )


class Searcher(ABC):
    """A NAS method: finds one cell of `space` on `data.train` (weights) and `data.val` (architecture).

    Implementations checkpoint into `workdir` after every epoch and resume from it, so a rerun with
    the same arguments after a crash returns what an unbroken run would have.
    """

    name: str = ""
    #: The method's published search budget, read by `search.published_budget`, the study and the
    #: CLI; None for a method that publishes none (a budget must then give epochs, channels, layers
    #: and batch_size).
    paper_budget: ClassVar[Budget | None] = None
    #: Every option the constructor takes, typed and bounded (`search.params.Param`); the registry
    #: checks a study's `params` and the CLI's options against it before building the searcher.
    #: None (a plugin that declares none): the constructor's signature is the only check.
    params_schema: ClassVar[tuple[Param, ...] | None] = None

    def check(self, space: str, budget: Budget) -> None:  # noqa: B027 (a hook: most methods run any budget)
        """Raise a ConfigError for a budget this method cannot run, before anything runs (none here)."""

    @abstractmethod
    def search(
        self,
        space: str,
        data: Splits,
        budget: Budget,
        seed: int,
        workdir: str | os.PathLike,
        progress: bool | None = None,
    ) -> SearchResult:
        """Run the search; `progress=None` shows a bar only on a terminal."""
