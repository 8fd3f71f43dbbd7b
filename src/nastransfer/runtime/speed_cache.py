"""Step timings measured on this machine, cached so that a rerun makes the same speed choices.

A training's autocast and compile choice (`train.speed`) and a search's compile choice
(`search.speed`) rest on a few timed steps, timed here the same way for both; an entry per machine
(CPU model or GPU, torch version, threads) and network (its layers, batch shape) keeps the choice,
and so the numbers, the same on every rerun here.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from nastransfer.atomic import atomic_write_bytes
from nastransfer.runtime.device import cache_dir, cpu_model
from nastransfer.runtime.rng import capture_rng, restore_rng

CACHE_NAME = "speed.json"
#: A measurement times `WARMUP_STEPS` steps (the compile happens there), then `TIMED_STEPS` more.
WARMUP_STEPS, TIMED_STEPS = 2, 5
#: Runs (trainings, searches) of fewer steps never measure: a measurement costs about 2 x 7 steps.
MEASURE_MIN_STEPS = 500


def step_seconds(step: Callable[[], object], device: torch.device) -> list[float]:
    """Seconds of each of `WARMUP_STEPS + TIMED_STEPS` calls of ``step`` (CUDA synchronised)."""
    times = []
    for _ in range(WARMUP_STEPS + TIMED_STEPS):
        start = time.perf_counter()
        step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return times


def best_step_s(times: list[float]) -> float:
    """Seconds of a step once warm: the fastest timed one."""
    return min(times[WARMUP_STEPS:])


def compile_seconds(times: list[float]) -> dict[str, float]:
    """Of compiled steps' ``times``: `compile_s`, what the warm-up steps took beyond warm steps,
    and `compiled_s`, a warm compiled step (as `nets.compiling.repay_steps` takes them)."""
    best = best_step_s(times)
    return {"compile_s": sum(times[:WARMUP_STEPS]) - WARMUP_STEPS * best, "compiled_s": best}


def cache_path() -> Path:
    """`$NASTRANSFER_CACHE/speed.json`, else `~/.cache/nastransfer/speed.json`."""
    return cache_dir() / CACHE_NAME


def timing_key(model: nn.Module, device: torch.device, batch_shape: tuple[int, ...]) -> str:
    """Machine (CPU model or GPU name, torch version, threads) and network (layers, batch shape)."""
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model()
    machine = f"{where}|torch {torch.__version__}|{torch.get_num_threads()} threads"
    network = hashlib.sha256(repr(model).encode()).hexdigest()[:16]
    return f"{machine}|{network}|{'x'.join(map(str, batch_shape))}"


def cached_timing(
    key: str, wanted: tuple[str, ...], measure: Callable[[list[str]], dict[str, float]]
) -> dict[str, float]:
    """The cache entry ``key``, first measuring the names in ``wanted`` it lacks (global RNG states
    restored afterwards, so a measurement leaves the run it is made for unchanged)."""
    entry = _read_cache().get(key, {})
    missing = [name for name in wanted if name not in entry]
    if not missing:
        return entry
    rng = capture_rng()
    try:
        measured = measure(missing)
    finally:
        restore_rng(rng)
    cache = _read_cache()  # another worker may have written meanwhile
    cache[key] = {**cache.get(key, {}), **entry, **measured}
    atomic_write_bytes(cache_path(), (json.dumps(cache, indent=1, sort_keys=True) + "\n").encode())
    return cache[key]


def _read_cache() -> dict[str, dict[str, float]]:
    try:
        data = json.loads(cache_path().read_text())
    except (OSError, json.JSONDecodeError):
        return {}  # a missing or damaged cache only costs a new measurement
    return data if isinstance(data, dict) else {}
