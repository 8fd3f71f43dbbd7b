"""How a final training runs fastest here: autocast precision and torch.compile.

`amp="auto"` is bf16 on CUDA and fp32 on the CPU, never a timing's choice: precision changes the
numbers, and a choice made by a measurement near its threshold (bf16 speeds some CPU networks up
1.23x and slows others 0.74x on an AVX512-BF16 CPU) would give the same seed different metrics from
one run, or one fresh cache, to the next. bf16 on the CPU is asked for by name (`amp = "bf16"`).
`compile="auto"` compiles only a training long enough to repay the compile. A compile costs
minutes, so it is measured only for a training that a prior estimate
(`nets.compiling.COMPILE_COST_S`: 7 minutes for 1.22x) says may repay it: then the compile time
and the compiled step time, measured here on a copy of the network, give the steps that repay the
compile, and the training compiles when it is longer.

Measuring costs a few steps on a copy of the network (global RNG states restored, the real model
untouched), so it runs only for trainings of at least `MEASURE_MIN_STEPS` steps; shorter ones train
uncompiled. A measurement is cached per machine (CPU model, torch version, threads) and network (its
layers, batch shape), so a network compiles the same way on every rerun here, and each result
records the plan it used.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from nastransfer.nets.compiling import compile_net, compile_repays
from nastransfer.runtime.speed_cache import (
    MEASURE_MIN_STEPS,
    best_step_s,
    cached_timing,
    compile_seconds,
    step_seconds,
    timing_key,
)
from nastransfer.train.protocols import Protocol


@dataclass(frozen=True)
class SpeedPlan:
    """What a training uses: autocast dtype name ("bf16", "fp16" or "off") and whether it compiles."""

    amp: str = "off"
    compile: bool = False

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.amp)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fixed_plan(protocol: Protocol, device: torch.device) -> SpeedPlan:
    """The plan without measuring: explicit settings; "auto" is bf16 on CUDA, else fp32, uncompiled."""
    amp = protocol.amp
    if amp == "auto":
        amp = "bf16" if device.type == "cuda" else "off"
    return SpeedPlan(amp=amp, compile=protocol.compile is True)


def plan_speed(
    model: nn.Module, protocol: Protocol, device: torch.device, batch_shape: tuple[int, ...], steps: int
) -> SpeedPlan:
    """The plan for training ``model`` for ``steps`` steps on batches of ``batch_shape``."""
    plan = fixed_plan(protocol, device)
    if steps < MEASURE_MIN_STEPS or protocol.compile != "auto":
        return plan
    # the steps are timed in the precision the training will use
    timing = step_timing(model, device, batch_shape, with_bf16=plan.amp == "bf16")
    step_s = timing["bf16_s"] if plan.amp == "bf16" else timing["fp32_s"]
    measure = functools.partial(compile_timing, model, device, batch_shape, plan.amp)
    return SpeedPlan(amp=plan.amp, compile=compile_repays(steps, step_s, device, measure))


def step_timing(
    model: nn.Module, device: torch.device, batch_shape: tuple[int, ...], with_bf16: bool
) -> dict[str, float]:
    """Seconds per training step in fp32 (and bf16 autocast), cached per machine and network."""
    wanted = ("fp32_s", "bf16_s") if with_bf16 else ("fp32_s",)

    def measure(missing: list[str]) -> dict[str, float]:
        dtypes = {"fp32_s": None, "bf16_s": torch.bfloat16}
        return {name: seconds_per_step(model, device, batch_shape, dtypes[name]) for name in missing}

    return cached_timing(timing_key(model, device, batch_shape), wanted, measure)


def compile_timing(
    model: nn.Module, device: torch.device, batch_shape: tuple[int, ...], amp: str
) -> dict[str, float]:
    """torch.compile of ``model`` under autocast ``amp``: `compile_s`, the seconds its first steps take
    beyond compiled ones, and `compiled_s`, seconds per compiled step; cached per machine and network."""
    names = {"compile_s": f"compile_{amp}_s", "compiled_s": f"compiled_{amp}_s"}

    def measure(missing: list[str]) -> dict[str, float]:
        times = step_times(model, device, batch_shape, SpeedPlan(amp=amp).autocast_dtype, compiled=True)
        return {names[short]: seconds for short, seconds in compile_seconds(times).items()}

    entry = cached_timing(timing_key(model, device, batch_shape), tuple(names.values()), measure)
    return {short: entry[name] for short, name in names.items()}


def seconds_per_step(
    model: nn.Module, device: torch.device, batch_shape: tuple[int, ...], dtype: torch.dtype | None
) -> float:
    """Best time of an SGD step of a copy of ``model`` on random data (its weights untouched)."""
    return best_step_s(step_times(model, device, batch_shape, dtype))


def step_times(
    model: nn.Module,
    device: torch.device,
    batch_shape: tuple[int, ...],
    dtype: torch.dtype | None,
    compiled: bool = False,
) -> list[float]:
    """Seconds of each of the measurement's SGD steps (`runtime.speed_cache.step_seconds`) of a copy
    of ``model`` (compiled, as the trainer compiles it, if asked) on random data; the model's
    weights are untouched."""
    net = copy.deepcopy(model).to(device).train()
    channels_last = next(net.parameters()).is_contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9)
    images = torch.randn(batch_shape, device=device)
    if channels_last and images.dim() == 4:
        images = images.contiguous(memory_format=torch.channels_last)
    run = compile_net(net) if compiled else net

    def step() -> None:
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            out = run(images)
            logits = out[0] if isinstance(out, tuple) else out
            loss = logits.float().square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step_seconds(step, device)
