"""The tunable parameters a searcher declares (`Searcher.params_schema`), and their one check.

Each searcher states its parameters once, beside its code: name, type, allowed range and
meaning. The registry checks every option against that schema before a searcher is built, so a
study's `methods[i].params`, the `search` command's options and `plan` refuse a wrong type or an
out-of-range value in one line naming the parameter and what it allows, before anything runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nastransfer.errors import ConfigError

_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a name"}


@dataclass(frozen=True)
class Param:
    """One tunable parameter: its type, range (`low`/`high`; `open_low`/`open_high`
    exclude them), or `choices`.

    `items` > 0 makes it a list of that many values, each of `kind` and in the range (Adam's betas);
    `optional` lets None stand for the searcher's own default. `check` is a further test of a value
    that returns what is wrong with it, or None.
    """

    name: str
    kind: type
    meaning: str
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    choices: tuple[Any, ...] = ()
    items: int = 0
    optional: bool = False
    check: Callable[[Any], str | None] | None = None

    def allowed(self) -> str:
        """What the parameter takes, in words: 'a number in (0, 10]'."""
        if self.choices:
            shown = [_shown(c) for c in self.choices]
            return ", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else shown[0]
        text = _TYPE_NAMES.get(self.kind, self.kind.__name__)
        if self.low is not None or self.high is not None:
            low = "-inf" if self.low is None else _number(self.low)
            high = "inf" if self.high is None else _number(self.high)
            opening = "(" if self.open_low or self.low is None else "["
            closing = ")" if self.open_high or self.high is None else "]"
            text += f" in {opening}{low}, {high}{closing}"
        return f"a list of {self.items}, each {text}" if self.items else text

    def fits(self, value: Any) -> bool:
        """Whether `value` has the parameter's type and lies in its range or choices."""
        if value is None:
            return self.optional
        if self.choices:
            # 1 == True and 1.0 == 1: a choice matches only a value of its own type
            return any(type(value) is type(c) and value == c for c in self.choices)
        if self.items:
            values = value if isinstance(value, (list, tuple)) and len(value) == self.items else None
            return values is not None and all(self._fits_one(v) for v in values)
        return self._fits_one(value)

    def _fits_one(self, value: Any) -> bool:
        if not _is_kind(value, self.kind):
            return False
        if self.kind not in (int, float):
            return True
        if not math.isfinite(value):
            return False
        below = self.low is not None and (value <= self.low if self.open_low else value < self.low)
        above = self.high is not None and (value >= self.high if self.open_high else value > self.high)
        return not (below or above)


def _is_kind(value: Any, kind: type) -> bool:
    """A bool is no number here (True == 1 would pass as an epoch count); an int is a float."""
    if isinstance(value, bool):
        return kind is bool
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else repr(value)


def check_params(schema: tuple[Param, ...], options: Mapping[str, Any], searcher: str) -> None:
    """A ConfigError (its `field` the parameter's name) for the first option `schema` does not take
    or whose value it does not allow; a study places it under `methods[i].params`."""
    by_name = {p.name: p for p in schema}
    for name, value in options.items():
        param = by_name.get(name)
        if param is None:
            known = ", ".join(by_name) or "none"
            raise ConfigError(f"{searcher}: unknown option {name!r} (known: {known})", field=name)
        if not param.fits(value):
            got = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
            raise ConfigError(f"{searcher} takes {param.allowed()} ({param.meaning}), got {got}", field=name)
        problem = param.check(value) if param.check and value is not None else None
        if problem:
            raise ConfigError(f"{searcher}: {problem}", field=name)


def _device_problem(value: Any) -> str | None:
    from nastransfer.runtime import check_device

    try:
        check_device(value, here=False)
    except ConfigError as err:
        return str(err)
    return None


#: The device a searcher runs on; whether it is present is checked where the search runs
#: (`runtime.check_device`): on this machine for the CLI and local studies.
DEVICE = Param(
    "device",
    str,
    "where it runs: cpu, cuda or cuda:N; default: CUDA when present",
    optional=True,
    check=_device_problem,
)
