"""Unpickling files users hand us (CIFAR batches, benchmark tables) without running their code.

A pickle can name any importable callable, so `pickle.load` on a downloaded file can run code.
`load_plain_data` admits plain containers, numbers and strings, plus a short list of globals that
only build data: numpy arrays, scalars and dtypes, `OrderedDict`, and latin-1 bytes as protocol-2
pickles spell them, and, where a caller names them, the classes a benchmark file stores its rows
as (read into attribute holders). Anything else is refused with `PlainDataError`, whose message
names the global. It is the one restricted unpickler of the package.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from collections.abc import Callable, Collection
from typing import IO, Any

import numpy as np

try:  # numpy >= 2 moved the module; pickles written by numpy 1 still name the old one
    from numpy._core.multiarray import _reconstruct, scalar
except ImportError:  # pragma: no cover - numpy 1
    from numpy.core.multiarray import _reconstruct, scalar


class PlainDataError(pickle.UnpicklingError):
    """A pickle that names a global outside the plain-data list, or is not a pickle at all."""


def _latin1_bytes(text: str, encoding: str) -> bytes:
    """How protocol-2 pickles spell `bytes` (`_codecs.encode(text, "latin1")`), for latin-1 only."""
    if encoding != "latin1":
        raise PlainDataError(f"refuses _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


def _allowed_globals() -> dict[tuple[str, str], Callable[..., Any]]:
    allowed: dict[tuple[str, str], Callable[..., Any]] = {
        ("collections", "OrderedDict"): OrderedDict,
        ("numpy", "dtype"): np.dtype,
        ("numpy", "ndarray"): np.ndarray,
        ("_codecs", "encode"): _latin1_bytes,
    }
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "scalar")] = scalar
        allowed[(module, "_reconstruct")] = _reconstruct
    for dtype_class in {type(np.dtype(code)) for code in "?bhilqBHILQefdgU"}:
        allowed[("numpy.dtypes", dtype_class.__name__)] = dtype_class
    return allowed


ALLOWED_GLOBALS = _allowed_globals()


class PlainRecord:
    """Stands in for a class a data file pickles its records as: unpickling only fills `__dict__`."""


class _PlainDataUnpickler(pickle.Unpickler):
    def __init__(self, handle: IO[bytes], encoding: str, records: Collection[tuple[str, str]]) -> None:
        super().__init__(handle, encoding=encoding)
        self.records = records

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.records:
            return PlainRecord
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            refused = f"{module}.{name}"
            raise PlainDataError(f"refuses the pickled global {refused} (reads plain data only)") from None


def load_plain_data(
    handle: IO[bytes], encoding: str = "ASCII", records: Collection[tuple[str, str]] = ()
) -> Any:
    """Unpickle `handle`, admitting only data-building globals (see the module docstring).

    `records` names (module, class) pairs a benchmark file stores its rows as; each becomes a
    `PlainRecord` holding the row's attributes, and none of that class's code runs.
    """
    return _PlainDataUnpickler(handle, encoding, frozenset(records)).load()
