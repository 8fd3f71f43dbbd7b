"""Which model a learned proxy should fit: ridge vs gradient boosting on the same predictor ranks.

Scores K cells of nb201:cifar10 once with each predictor (on a batch of the source), then, for
several draws of the labelled cells, fits each model on `--labels` of them and reports the
Spearman rho of its predictions on the held-out cells against the table (mean and range over the
draws), beside the best single feature and the vote of the same predictors. Accuracy, not speed:
the fits take milliseconds.

    .venv/bin/python benchmarks/bench_learned.py [--cells 300 --labels 100 --source digits]
"""

from __future__ import annotations

import argparse

import numpy as np
from rich.console import Console
from rich.table import Table
from scipy import stats

from nastransfer import predictors
from nastransfer.data import load_dataset
from nastransfer.proxies import ZeroCostSetup, zero_cost_scores
from nastransfer.proxies.cells import choose_cells, table_input, target_scores, target_table
from nastransfer.proxies.learned import MODELS, fit_predict, labelled_cells, parse_learned, rank_features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=300)
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--draws", type=int, default=10, help="draws of the labelled cells")
    parser.add_argument("--source", default="digits")
    parser.add_argument("--predictors", default="synflow,naswot,jacob_cov")
    args = parser.parse_args()

    learned = parse_learned(f"learned:{args.predictors}")
    table = target_table("nb201:cifar10", "nb201")
    cells = choose_cells(table, args.cells, seed=0)
    truth = target_scores(table, cells).to_numpy()
    source = load_dataset(args.source)
    columns = {}
    for name in learned.features:
        scores, _ = zero_cost_scores(
            name, cells, source, ZeroCostSetup(), target_input=table_input("nb201:cifar10"), seed=0
        )
        columns[name] = np.asarray(scores, dtype=np.float64)
    features = rank_features(list(columns.values()))
    vote = predictors.parse_vote(f"vote:{args.predictors}").aggregate(
        np.array([columns[n] for n in learned.predictors])
    )

    rows: dict[str, list[float]] = {m: [] for m in (*MODELS, "vote", *columns)}
    for draw in range(args.draws):
        train = labelled_cells(len(cells), args.labels, seed=draw)
        rest = np.setdiff1d(np.arange(len(cells)), train)
        for model in MODELS:
            predicted = fit_predict(features, truth, train, model, seed=draw)
            rows[model].append(stats.spearmanr(predicted, truth[rest])[0])
        rows["vote"].append(stats.spearmanr(vote[rest], truth[rest])[0])
        for name, values in columns.items():
            rows[name].append(stats.spearmanr(values[rest], truth[rest])[0])

    view = Table(
        title=f"Spearman on held-out cells: {args.cells} cells, {args.labels} labels, "
        f"{args.draws} draws, source {args.source}"
    )
    for column in ("proxy", "mean rho", "min", "max"):
        view.add_column(column)
    for name, values in rows.items():
        view.add_row(name, f"{np.mean(values):.3f}", f"{np.min(values):.3f}", f"{np.max(values):.3f}")
    Console().print(view)


if __name__ == "__main__":
    main()
