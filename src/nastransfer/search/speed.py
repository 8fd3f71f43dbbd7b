"""Whether a search runs its supernet compiled: only where the measured compile repays within it.

bench_compile (1 thread, batch 16 at 16 px): the partial-channel supernets gain 1.65x (DARTS) and
1.92x (NB201) compiled, after 5-20 CPU-minutes of compiling, repaid after ~4,000-12,000 steps, which
a full-budget search (50 epochs of ~390 batch pairs) exceeds; the mixed DARTS supernet gains only
1.10x, and an RSWS step of the DARTS space is slower compiled. So `compile="auto"` decides as a final
training does (`train.speed`): a search too short for the prior (`nets.compiling.may_repay_compile`,
a supernet's compile priced by its edges, `COMPILE_S_PER_EDGE`) stays eager unmeasured; a longer
one times a few of its own batch pairs (weight step, then architecture step) eager and compiled, on
a fresh supernet and random batches, and compiles when the measured compile is repaid within its
steps. A method whose forward changes graph during a search (`compilable` False: GDAS draws a new
graph with every Gumbel sample, P-DARTS changes its dropout rate every epoch and its network every
stage) never compiles under auto.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import torch

from nastransfer.nets.compiling import compile_repays
from nastransfer.runtime.speed_cache import (
    MEASURE_MIN_STEPS,
    best_step_s,
    cached_timing,
    compile_seconds,
    step_seconds,
    timing_key,
)

CompileSetting = Literal["auto"] | bool


class SupernetRun(Protocol):
    """What the choice needs of a search's run state (`search.gradient.RunState`): its supernet
    (a `nets.supernets.Supernet`), and a switch between running its steps eager and compiled."""

    net: Any

    def use_compile(self, compiled: bool) -> None: ...


class SupernetMethod(Protocol):
    """What the choice needs of a supernet method (`search.gradient.GradientSearcher`), named by its
    shape: the searcher imports this module, so this module imports nothing of the searcher."""

    name: str
    order: int
    compile: CompileSetting
    compilable: bool

    def batch_pair(self, run: Any, train: Any, val: Any, arch_step: bool) -> None: ...


#: Prior compile seconds per supernet edge and graph (forward and backward), for the decision to
#: measure: a supernet compiles for far longer than an evaluation network. bench_compile on this
#: CPU: DARTS 3 cells (42 edges) 832-1,165 CPU-s, NB201 N=1 (18 edges) 245-317 CPU-s, so 20 s an
#: edge covers both; CUDA scaled as `nets.compiling.COMPILE_COST_S` (a guess: not measured here).
COMPILE_S_PER_EDGE = {"cpu": 20.0, "cuda": 6.0}


@dataclass(frozen=True)
class SearchShape:
    """What a search's speed depends on: its batch pairs to go, their images' shape, its classes,
    and whether they include architecture steps."""

    steps: int
    batch: tuple[int, ...]
    num_classes: int
    arch_steps: bool


def search_compiles(
    searcher: SupernetMethod,
    run: SupernetRun,
    new_run: Callable[[], SupernetRun],
    shape: SearchShape,
    device: torch.device,
) -> bool:
    """Whether ``searcher`` compiles ``run``'s supernet for a search of ``shape``; ``new_run``
    builds a fresh run state to time (the search's own is untouched, its RNG states too)."""
    setting = searcher.compile
    if setting != "auto":
        return bool(setting)
    if not searcher.compilable or shape.steps < MEASURE_MIN_STEPS:
        return False
    key = f"{timing_key(run.net, device, shape.batch)}|search {searcher.name} order {searcher.order}"
    key += f"|arch steps {shape.arch_steps}"

    def timed(compiled: bool) -> list[float]:
        return pair_times(searcher, new_run(), shape, device, compiled)

    def measure_eager(_: list[str]) -> dict[str, float]:
        return {"search_eager_s": best_step_s(timed(False))}

    step_s = cached_timing(key, ("search_eager_s",), measure_eager)["search_eager_s"]

    def measure_compiled(_: list[str]) -> dict[str, float]:
        return {f"search_{short}": seconds for short, seconds in compile_seconds(timed(True)).items()}

    def compiled() -> dict[str, float]:
        entry = cached_timing(key, ("search_compile_s", "search_compiled_s"), measure_compiled)
        return {short: entry[f"search_{short}"] for short in ("compile_s", "compiled_s")}

    return compile_repays(shape.steps, step_s, device, compiled, prior_compile_s(run, shape, device))


def prior_compile_s(run: SupernetRun, shape: SearchShape, device: torch.device) -> float:
    """Seconds a compile of ``run``'s steps is expected to take: per edge, per graph (the weight
    step's, and the architecture step's if there is one)."""
    per_edge = COMPILE_S_PER_EDGE.get(device.type, COMPILE_S_PER_EDGE["cpu"])
    return per_edge * len(run.net.search_edges()) * (2 if shape.arch_steps else 1)


def pair_times(
    searcher: SupernetMethod, run: SupernetRun, shape: SearchShape, device: torch.device, compiled: bool
) -> list[float]:
    """Seconds of each of the measurement's batch pairs (`runtime.speed_cache.step_seconds`) of
    ``searcher``'s own weight and architecture steps on ``run`` (compiled, as the search would
    compile it, if asked), random data."""
    run.use_compile(compiled)
    x = torch.randn(shape.batch, device=device)
    y = torch.randint(shape.num_classes, (shape.batch[0],), device=device)
    return step_seconds(lambda: searcher.batch_pair(run, (x, y), (x, y), shape.arch_steps), device)
