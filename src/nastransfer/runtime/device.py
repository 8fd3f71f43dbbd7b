"""Choosing the compute device once, by name or by what the machine has."""

from __future__ import annotations

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
