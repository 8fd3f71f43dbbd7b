"""Timings measured on this machine, cached in one file so that a rerun makes the same choices.

A training's autocast and compile choice (`train.speed`) and a search's compile choice
(`search.speed`) rest on a few timed steps, timed here the same way for both; an entry per machine
(CPU model or GPU, torch version, threads) and network (its layers, batch shape) keeps the choice,
and so the numbers, the same on every rerun here. The cost plan (`study.cost`) keeps its per-step
timings and multiply-add counts in the same file (`TimingCache`, keys from `shape_key`), so one
per-machine cache holds every measurement the tool makes of this machine.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def shape_key(machine: str, shape: dict[str, Any]) -> str:
    """The key of a measurement of `shape` (plain data) made as `machine` describes."""
    return f"{machine}|{json.dumps(shape, sort_keys=True, separators=(',', ':'))}"


class TimingCache:
    """The cache file: {key: {name: plain value}}, read once; each new value is merged into the file as
    it is then (another process may have written meanwhile) and written at once, so a run cut short
    loses no measurement. A missing or damaged file only costs new measurements."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_path()
        self.entries = _read_cache(self.path)

    def find(self, key: str) -> dict[str, Any] | None:
        return self.entries.get(key)

    def get(self, key: str, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The entry `key`, measured (and kept) the first time."""
        found = self.find(key)
        if found is None:
            found = measure()
            self.put(key, found)
        return found

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Merge `value`'s names into the entry `key`, in memory and in the file."""
        on_disk = _read_cache(self.path)
        self.entries[key] = on_disk[key] = {**on_disk.get(key, {}), **self.entries.get(key, {}), **value}
        atomic_write_bytes(self.path, (json.dumps(on_disk, indent=1, sort_keys=True) + "\n").encode())


def cached_timing(
    key: str, wanted: tuple[str, ...], measure: Callable[[list[str]], dict[str, float]]
) -> dict[str, float]:
    """The cache entry ``key``, first measuring the names in ``wanted`` it lacks (global RNG states
    restored afterwards, so a measurement leaves the run it is made for unchanged)."""
    cache = TimingCache()
    entry = cache.find(key) or {}
    missing = [name for name in wanted if name not in entry]
    if not missing:
        return entry
    rng = capture_rng()
    try:
        measured = measure(missing)
    finally:
        restore_rng(rng)
    cache.put(key, measured)
    return cache.entries[key]


def _read_cache(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}  # a missing or damaged cache only costs a new measurement
    return data if isinstance(data, dict) else {}
