"""How a final training runs fastest here: bf16 autocast and torch.compile, chosen per network.

`amp="auto"` on the CPU uses bf16 autocast only where a short measurement says it pays: bf16 speeds
some networks up and slows others (DARTS' evaluation network 1.23x, the DARTS supernet 0.74x on an
AVX512-BF16 CPU), and a CPU without native bf16 only emulates it. `compile="auto"` compiles only
a training long enough to repay the compile: its eager time, estimated from the same measurement,
must save more than the compile costs at the speed-up measured for evaluation networks.

Measuring costs a few steps on a copy of the network (global RNG states restored, the real model
untouched), so it runs only for trainings of at least `MEASURE_MIN_STEPS` steps; shorter ones train
in fp32, uncompiled. A measurement is cached per machine (CPU model, torch version, threads) and
network (its layers, batch shape), so a network trains with the same precision on every rerun here
and each result records the plan it used.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nastransfer.runtime import atomic_write_bytes, cache_dir, capture_rng, cpu_model, restore_rng
from nastransfer.train.protocols import Protocol

#: Trainings shorter than this never measure (a measurement costs about 2 x (2 + 5) steps).
MEASURE_MIN_STEPS = 500
WARMUP_STEPS, TIMED_STEPS = 2, 5
#: bf16 must beat fp32 by this factor: below it, the lost precision is not worth the time.
BF16_MIN_GAIN = 1.1
#: torch.compile of an evaluation network: about 7 minutes on a CPU for 1.22x (issue 16's numbers);
#: on CUDA the compile is assumed to take 2 minutes for the same speed-up.
COMPILE_COST_S = {"cpu": 420.0, "cuda": 120.0}
COMPILE_SPEEDUP = 1.22
CACHE_NAME = "speed.json"


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
    measure_amp = protocol.amp == "auto" and device.type == "cpu" and cpu_has_bf16()
    if steps < MEASURE_MIN_STEPS or not (measure_amp or protocol.compile == "auto"):
        return plan
    timing = step_timing(model, device, batch_shape, with_bf16=measure_amp)
    amp = plan.amp
    if measure_amp and timing["fp32_s"] / timing["bf16_s"] >= BF16_MIN_GAIN:
        amp = "bf16"
    compile_ = plan.compile
    if protocol.compile == "auto":
        step_s = timing["bf16_s"] if amp == "bf16" else timing["fp32_s"]
        saved = steps * step_s * (1.0 - 1.0 / COMPILE_SPEEDUP)
        compile_ = saved > COMPILE_COST_S.get(device.type, COMPILE_COST_S["cpu"])
    return SpeedPlan(amp=amp, compile=compile_)


def cpu_has_bf16() -> bool:
    """Whether this CPU runs bf16 natively (oneDNN's AVX512-BF16/AMX path), not by emulation."""
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(check()) if check is not None else False


def step_timing(
    model: nn.Module, device: torch.device, batch_shape: tuple[int, ...], with_bf16: bool
) -> dict[str, float]:
    """Seconds per training step in fp32 (and bf16 autocast), cached per machine and network."""
    key = _cache_key(model, device, batch_shape)
    cache = _read_cache()
    entry = cache.get(key, {})
    wanted = ("fp32_s", "bf16_s") if with_bf16 else ("fp32_s",)
    if all(name in entry for name in wanted):
        return entry
    rng = capture_rng()
    try:
        for name in wanted:
            dtype = torch.bfloat16 if name == "bf16_s" else None
            entry[name] = seconds_per_step(model, device, batch_shape, dtype)
    finally:
        restore_rng(rng)
    cache = _read_cache()  # another worker may have written meanwhile
    cache[key] = entry
    path = cache_path()
    atomic_write_bytes(path, (json.dumps(cache, indent=1, sort_keys=True) + "\n").encode())
    return entry


def seconds_per_step(
    model: nn.Module, device: torch.device, batch_shape: tuple[int, ...], dtype: torch.dtype | None
) -> float:
    """Best time of an SGD step of a copy of ``model`` on random data (its weights untouched)."""
    net = copy.deepcopy(model).to(device).train()
    channels_last = next(net.parameters()).is_contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9)
    images = torch.randn(batch_shape, device=device)
    if channels_last and images.dim() == 4:
        images = images.contiguous(memory_format=torch.channels_last)
    best = float("inf")
    for step in range(WARMUP_STEPS + TIMED_STEPS):
        start = time.perf_counter()
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            out = net(images)
            logits = out[0] if isinstance(out, tuple) else out
            loss = logits.float().square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if step >= WARMUP_STEPS:
            best = min(best, time.perf_counter() - start)
    return best


def cache_path() -> Path:
    """`$NASTRANSFER_CACHE/speed.json`, else `~/.cache/nastransfer/speed.json`."""
    return cache_dir() / CACHE_NAME


def _read_cache() -> dict[str, dict[str, float]]:
    try:
        data = json.loads(cache_path().read_text())
    except (OSError, json.JSONDecodeError):
        return {}  # a missing or damaged cache only costs a new measurement
    return data if isinstance(data, dict) else {}


def _cache_key(model: nn.Module, device: torch.device, batch_shape: tuple[int, ...]) -> str:
    """Machine (CPU model or GPU name, torch version, threads) and network (layers, batch shape)."""
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model()
    machine = f"{where}|torch {torch.__version__}|{torch.get_num_threads()} threads"
    network = hashlib.sha256(repr(model).encode()).hexdigest()[:16]
    return f"{machine}|{network}|{'x'.join(map(str, batch_shape))}"

