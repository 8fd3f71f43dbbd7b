"""Compiling a network, and when compiling pays: `eager` parts, `compile_net` and the repay rule.

`torch.compiler.disable` imports torch._dynamo where it is applied: ~2 s of start-up for every
process (each task worker, each command), most of which never compile. `eager` only marks a
function; `compile_net` puts the disabled form in its place (module or class) before it compiles.

A compile costs minutes on a CPU, so a training (`train.speed`) or a search (`search.speed`)
compiles only when it is long enough to repay it: a prior says whether measuring the compile is
worthwhile, and the measured compile time and compiled step time say whether it repays.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import torch

F = TypeVar("F", bound=Callable)

_EAGER: list[Callable] = []
#: Prior for torch.compile, to decide whether measuring it is worthwhile: about 7 minutes on a CPU
#: for 1.22x (measured on the DARTS_V2 evaluation network, C=16, 8 cells, batch 128, on an
#: AVX512-BF16 CPU); on CUDA 2 minutes for the same speed-up.
COMPILE_COST_S = {"cpu": 420.0, "cuda": 120.0}
COMPILE_SPEEDUP = 1.22


def eager(fn: F) -> F:
    """Mark `fn` (a module function or a method) to run eagerly inside a compiled forward, one graph
    break there, as `torch.compiler.disable` makes it; callers must look it up by its name at call
    time (`module.fn`, `self.method`), so that `compile_net` can swap it."""
    _EAGER.append(fn)
    return fn


def compile_net(net: torch.nn.Module, **options: Any) -> torch.nn.Module:
    """torch.compile(net, **options), with every `eager` function disabled for the compiler first."""
    for fn in _EAGER:
        owner: Any = sys.modules[fn.__module__]
        *path, name = fn.__qualname__.split(".")
        for part in path:
            owner = getattr(owner, part)
        if getattr(owner, name) is fn:
            setattr(owner, name, torch.compiler.disable(fn))
    return torch.compile(net, **options)


def may_repay_compile(
    steps: int, step_s: float, device: torch.device, compile_s: float | None = None
) -> bool:
    """Whether, by the prior (a compile of ``compile_s`` seconds, by default `COMPILE_COST_S`, for
    `COMPILE_SPEEDUP`), ``steps`` eager steps of ``step_s`` seconds are long enough to repay a
    compile: only then is the compile measured."""
    saved = steps * step_s * (1.0 - 1.0 / COMPILE_SPEEDUP)
    if compile_s is None:
        compile_s = COMPILE_COST_S.get(device.type, COMPILE_COST_S["cpu"])
    return saved > compile_s


def repay_steps(step_s: float, compiled: dict[str, float]) -> float:
    """Steps after which compiling has saved its own cost: measured compile time (`compile_s`) over
    the time each compiled step (`compiled_s`) saves; infinite if compiling is no faster."""
    saved = step_s - compiled["compiled_s"]
    return compiled["compile_s"] / saved if saved > 0 else float("inf")


def compile_repays(
    steps: int,
    step_s: float,
    device: torch.device,
    measure_compiled: Callable[[], dict[str, float]],
    compile_s: float | None = None,
) -> bool:
    """Whether to compile a run of ``steps`` eager steps of ``step_s`` seconds: the rule trainings and
    searches share. The prior (`may_repay_compile`, a compile of ``compile_s`` seconds) decides
    whether measuring is worthwhile; only then is ``measure_compiled()`` called (its `compile_s` and
    `compiled_s`), and the run compiles when it is longer than the measured `repay_steps`."""
    if not may_repay_compile(steps, step_s, device, compile_s):
        return False
    return steps > repay_steps(step_s, measure_compiled())
