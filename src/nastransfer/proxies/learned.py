"""The learned proxy: a model of the target fitted on K labelled cells, scoring only the other cells.

`learned:synflow,naswot` is NAS-Bench-Suite-Zero's idea (Krishnakumar et al., NeurIPS 2022
Datasets and Benchmarks, released code `automl/NASLib`, `zerocost` branch: a model fitted on the
zero-cost scores of 100 labelled cells predicts the rest): every cell is scored by the named
predictors and by `params` and `flops`, each becomes a feature as its rank among the cells over n
(scale-free: synflow spans 60 orders of magnitude), a model fitted on K cells chosen by the seed
(their table accuracy the label) predicts the accuracy of the others, and only those are scored;
the K training cells have no score, so a fidelity statistic never sees a cell the model was fitted on.

Models: `gbm` (scikit-learn's `GradientBoostingRegressor`, its defaults, seeded), the default,
and `ridge` (scikit-learn's `Ridge` on standardised features): gbm ranked held-out cells better
in `benchmarks/bench_learned.py` (docs/methods.md has the figures). The cost is that of every
predictor on every cell (training cells included) and of the fit; no table here holds its
cells' training cost, so the K labels are not priced, and a measurement says so (`LABELS_NOTE`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nastransfer import predictors
from nastransfer.errors import ConfigError
from nastransfer.runtime import Cost, CostMeter

PREFIX = "learned"
#: NAS-Bench-Suite-Zero's labelled cells.
DEFAULT_LABELS = 100
MODELS = ("ridge", "gbm")
#: Size features every learned proxy reads besides its named predictors.
SIZE_FEATURES = ("params", "flops")
#: Separates the choice of labelled cells from the cell sample's own draw.
_STREAM = 0x4C45
LABELS_NOTE = "the labels' training cost is not included (the table holds none)"


@dataclass(frozen=True)
class Learned:
    """The named predictors of a learned proxy (the size features are added to them)."""

    predictors: tuple[str, ...]

    def __str__(self) -> str:
        return f"{PREFIX}:{','.join(self.predictors)}"

    @property
    def features(self) -> tuple[str, ...]:
        """Every predictor the model reads: the named ones, then params and flops if not named."""
        return self.predictors + tuple(f for f in SIZE_FEATURES if f not in self.predictors)

    @property
    def needs_data(self) -> bool:
        return any(predictors.get(name).needs_data for name in self.predictors)


def is_learned(name: str) -> bool:
    """Whether `name` reads as a learned proxy (`learned:...`), valid or not."""
    return name.startswith(f"{PREFIX}:")


def parse_learned(text: str) -> Learned:
    """`learned:a,b`; a ConfigError names an unknown or repeated predictor."""
    if not is_learned(text):
        raise ConfigError(f"{text!r} is not a learned proxy (write {PREFIX}:a,b)")
    parts = [p.strip() for p in text.partition(":")[2].split(",")]
    if not all(parts):
        raise ConfigError(f"{text!r}: name one or more predictors, comma-separated")
    for part in parts:
        if part not in predictors.names():
            known = ", ".join(predictors.names())
            raise ConfigError(f"{text!r}: unknown zero-cost predictor {part!r} (known: {known})")
    if len(set(parts)) != len(parts):
        raise ConfigError(f"{text!r}: a predictor appears twice")
    return Learned(tuple(parts))


def check_labels(labels: Any, cells: int) -> int:
    """K labelled cells must leave at least 3 cells to score (a fidelity statistic needs 3)."""
    if isinstance(labels, bool) or not isinstance(labels, int) or labels < 2:
        raise ConfigError(f"learned proxy: labels must be an integer >= 2, got {labels!r}")
    if labels > cells - 3:
        raise ConfigError(
            f"learned proxy: labels = {labels} leaves {cells - labels} of {cells} cells to score; "
            "give at most cells - 3 labels"
        )
    return labels


def labelled_cells(n: int, labels: int, seed: int) -> np.ndarray:
    """Sorted indices of the K cells (of n) whose labels the model is fitted on, fixed by `seed`."""
    return np.sort(np.random.default_rng([seed, _STREAM]).choice(n, size=labels, replace=False))


def rank_features(columns: Sequence[Sequence[float]]) -> np.ndarray:
    """(cells, features): each predictor's ascending rank among the cells over n."""
    return np.stack([predictors.ascending_ranks(c) / len(c) for c in columns], axis=1)


def fit_predict(
    features: np.ndarray, targets: np.ndarray, train: np.ndarray, model: str, seed: int
) -> np.ndarray:
    """The model's prediction for every cell not in `train`, fitted on the `train` cells' targets."""
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if model not in MODELS:
        raise ConfigError(f"learned proxy: model must be one of {', '.join(MODELS)}, got {model!r}")
    if model == "ridge":
        regressor = make_pipeline(StandardScaler(), Ridge(alpha=1.0))
    else:
        regressor = GradientBoostingRegressor(random_state=seed)
    rest = np.setdiff1d(np.arange(len(features)), train)
    regressor.fit(features[train], targets[train])
    return regressor.predict(features[rest])


def learned_scores(
    name: str,
    cells: list[Any],
    targets: Sequence[float],
    score: Callable[[str], tuple[list[float], Cost]],
    *,
    labels: int = DEFAULT_LABELS,
    seed: int = 0,
    model: str = "gbm",
) -> tuple[list[Any], list[float], Cost]:
    """(the cells scored, their predicted target scores, the cost): `score(predictor)` gives a
    predictor's scores of all `cells` and its cost; `targets` are the cells' table scores, of which
    only the K labelled cells' are read."""
    learned = parse_learned(name)
    check_labels(labels, len(cells))
    columns, total = [], None
    for feature in learned.features:
        values, cost = score(feature)
        columns.append(values)
        total = cost if total is None else total + cost
    with CostMeter() as meter:
        train = labelled_cells(len(cells), labels, seed)
        predicted = fit_predict(
            rank_features(columns), np.asarray(targets, dtype=np.float64), train, model, seed
        )
    fitted = set(train.tolist())
    scored = [cell for i, cell in enumerate(cells) if i not in fitted]
    return scored, predicted.tolist(), total + meter.cost
