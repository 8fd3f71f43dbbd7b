"""Choosing the compute device once, by name or by what the machine has; what names this machine
(its CPU model) and where measurements made on it are cached."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch

from nastransfer.errors import ConfigError


def pick_device(name: str | None = None) -> torch.device:
    """``None``/``"auto"``: CUDA when present, else CPU; otherwise the named device, checked."""
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise ConfigError(f"unknown device '{name}'") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device '{name}' asked for, but CUDA is not available on this machine")
    return device


def cpu_model() -> str:
    """The CPU's model name: measurements cached per machine are keyed by it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cache_dir() -> Path:
    """Where per-machine measurements live: `$NASTRANSFER_CACHE`, else `~/.cache/nastransfer`."""
    return Path(os.environ.get("NASTRANSFER_CACHE") or Path.home() / ".cache" / "nastransfer")
