"""Choosing the compute device once, by name or by what the machine has; what names this machine
(its CPU model) and where measurements made on it are cached."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch

from nastransfer.errors import ConfigError

#: The device kinds nastransfer runs on (torch knows more: mps, meta, xla, ... which it does not).
DEVICE_KINDS = ("cpu", "cuda")


def check_device(name: object, here: bool = True) -> str:
    """`name` as a device nastransfer runs on ("auto", cpu, cuda, cuda:N), else a one-line ConfigError.

    `here`: the device must also be present on this machine (a CUDA device, or that GPU index).
    """
    if name == "auto":
        return "auto"
    if not isinstance(name, str):
        raise ConfigError(f"a device is a name (cpu, cuda or cuda:N), got {name!r}")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        device = None
    if device is None or device.type not in DEVICE_KINDS:
        raise ConfigError(f"unknown device {name!r}: nastransfer runs on cpu, cuda or cuda:N")
    if here and device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ConfigError(f"device {name!r} asked for, but CUDA is not available on this machine")
        if device.index is not None and device.index >= count:
            raise ConfigError(f"device {name!r} asked for, but this machine has {count} GPU(s)")
    return name


def pick_device(name: str | None = None) -> torch.device:
    """``None``/``"auto"``: CUDA when present, else CPU; otherwise the named device, checked."""
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(check_device(name))


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
