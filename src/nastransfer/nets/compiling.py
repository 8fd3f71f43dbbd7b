"""`eager` parts of a network and `compile_net`: torch.compiler.disable, paid for only where compiled.

`torch.compiler.disable` imports torch._dynamo where it is applied: ~2 s of start-up for every
process (each task worker, each command), most of which never compile. `eager` only marks a
function; `compile_net` puts the disabled form in its place (module or class) before it compiles.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import torch

F = TypeVar("F", bound=Callable)

_EAGER: list[Callable] = []


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
