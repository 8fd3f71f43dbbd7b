"""What a search may spend: epochs, network size, batch, input size, data, and method-specific counts.

A `Budget` is a pure value, validated on construction and never rescaled behind the caller's back:
the budget a search actually ran with is the one recorded in its `SearchResult`. What a method
publishes is the registry's to answer (`search.published_budget`), as its class states it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from nastransfer.errors import ConfigError

#: The fields every budget needs (the others have defaults).
REQUIRED_FIELDS = ("epochs", "channels", "layers", "batch_size")


@dataclass(frozen=True)
class Budget:
    """Search budget. `image_size=None` keeps the source resolution; `warmup_epochs` train weights only.

    `n_samples` is the number of cells a weight-sharing random search scores (and ignored by the
    gradient methods). For P-DARTS `epochs` and `warmup_epochs` are per stage and `layers` is the
    depth of the first stage (later stages grow by the paper's 5:11:17 ratio).
    """

    epochs: int
    channels: int
    layers: int
    batch_size: int
    image_size: int | None = None
    data_fraction: float = 1.0
    warmup_epochs: int = 0
    n_samples: int = 0

    def __post_init__(self) -> None:
        for name, (minimum, maximum) in LIMITS.items():
            if name != "image_size" or self.image_size is not None:
                _require_int(name, getattr(self, name), minimum, maximum)
        if isinstance(self.data_fraction, bool) or not isinstance(self.data_fraction, int | float):
            raise ConfigError(
                f"budget data_fraction must be a number, got {self.data_fraction!r}", field="data_fraction"
            )
        if not 0.0 < self.data_fraction <= 1.0:
            raise ConfigError(
                f"budget data_fraction must be in (0, 1], got {self.data_fraction}", field="data_fraction"
            )
        if self.warmup_epochs >= self.epochs:
            raise ConfigError(
                f"budget warmup_epochs {self.warmup_epochs} leaves no architecture epochs "
                f"out of {self.epochs}",
                field="warmup_epochs",
            )

    @classmethod
    def queries(cls, n: int) -> Budget:
        """A budget of `n` cells drawn or table queries: nothing is trained, so the net fields are 1."""
        return cls(epochs=1, channels=1, layers=1, batch_size=1, n_samples=n)

    def replace(self, **changes: Any) -> Budget:
        """A copy with some fields changed (None values leave a field as it is); validated again."""
        _known_fields(changes)
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Budget:
        _known_fields(data)
        return cls(**data)


#: (min, max) of the integer fields: the maxima are far above any published budget, low enough that
#: a typo fails here rather than deep inside a search.
LIMITS = {
    "epochs": (1, 100_000),
    "channels": (1, 4096),
    "layers": (1, 200),
    "batch_size": (1, 1 << 20),
    "image_size": (4, 4096),
    "warmup_epochs": (0, 100_000),
    "n_samples": (0, 1_000_000),
}


def _known_fields(given: dict[str, Any]) -> None:
    """Every named field is a budget field; the error's field is the first unknown one."""
    known = {f.name for f in fields(Budget)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ConfigError(
            f"unknown budget field(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})",
            field=unknown[0],
        )


def _require_int(name: str, value: Any, minimum: int, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"budget {name} must be an integer, got {value!r}", field=name)
    if value < minimum:
        raise ConfigError(f"budget {name} must be >= {minimum}, got {value}", field=name)
    if value > maximum:
        raise ConfigError(f"budget {name} must be <= {maximum}, got {value}", field=name)

