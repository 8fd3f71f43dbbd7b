"""What a task cost: wall time, device time, peak memory and the device, as NAS papers report it."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

import torch

_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class Cost:
    """Cost of one task; ``device_s`` is GPU-seconds on CUDA and process CPU-seconds on the CPU."""

    wall_s: float
    device_s: float
    peak_mem_mb: float
    device: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cost:
        return cls(**{k: data[k] for k in ("wall_s", "device_s", "peak_mem_mb", "device")})

    def __add__(self, other: Cost) -> Cost:
        """Costs of consecutive pieces of one task (e.g. a run resumed after a crash)."""
        return Cost(
            self.wall_s + other.wall_s,
            self.device_s + other.device_s,
            max(self.peak_mem_mb, other.peak_mem_mb),
            self.device if self.device == other.device else f"{self.device}+{other.device}",
        )


def _rss_bytes() -> int:
    """Resident set size of this process, from /proc (0 where /proc is absent)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE_BYTES
    except OSError:
        return 0


class _RssSampler(threading.Thread):
    """Samples RSS in the background: the CPU has no allocator peak counter like CUDA's."""

    def __init__(self, interval_s: float) -> None:
        super().__init__(daemon=True)
        self.interval_s = interval_s
        self.baseline = _rss_bytes()
        self.peak = self.baseline
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval_s):
            self.peak = max(self.peak, _rss_bytes())

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        self.peak = max(self.peak, _rss_bytes())
        return self.peak - self.baseline


class CostMeter:
    """Context manager measuring a block's cost on ``device`` (default: CUDA if available)."""

    def __init__(self, device: str | torch.device | None = None, sample_interval_s: float = 0.05) -> None:
        self.device = torch.device(device) if device is not None else _default_device()
        self.sample_interval_s = sample_interval_s
        self.cost: Cost | None = None

    def __enter__(self) -> CostMeter:
        self._wall0 = time.perf_counter()
        self._cpu0 = time.process_time()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._sampler = None
        else:
            self._sampler = _RssSampler(self.sample_interval_s)
            self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            wall = time.perf_counter() - self._wall0
            peak = torch.cuda.max_memory_allocated(self.device)
            self.cost = Cost(wall, wall, peak / 2**20, torch.cuda.get_device_name(self.device))
        else:
            peak = self._sampler.stop()
            wall = time.perf_counter() - self._wall0
            cpu = time.process_time() - self._cpu0
            self.cost = Cost(wall, cpu, max(peak, 0) / 2**20, f"cpu ({torch.get_num_threads()} threads)")


def _default_device() -> torch.device:
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
