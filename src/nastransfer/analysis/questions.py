"""The paper's four questions, each answered from the results frame as tables plus sentences computed from
them, and saying so when the data are too few to conclude.

(i) different-dataset sources vs proxy sets, and how the source changes the ranking of methods;
(ii) the spread of methods on the source vs on the target;
(iii) the random baseline vs the methods;
(iv) the effect of the training protocol on small (source) vs large (target) datasets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nastransfer.analysis.agreement import MIN_POINTS
from nastransfer.analysis.frame import (
    RANDOM,
    RESULT_KEYS,
    SOURCE_ROLE,
    TARGET_ROLE,
    Setting,
    cell_scores,
    matching_source_protocol,
    protocol_order,
    settings,
)
from nastransfer.analysis.methods import (
    MIN_PAIRS_FOR_5_PERCENT,
    method_stats,
    paired_test_vs_random,
    rank_table,
    ranking_agreement,
    versus_random,
)

TOO_FEW = "too few to conclude"


@dataclass
class Section:
    """One question: its tables, the sentences read from them, and what the data are too few to say."""

    key: str
    title: str
    question: str
    readings: list[str] = field(default_factory=list)
    too_few: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: ranking statements read from a setting below the noise floor (`analysis.noise`)
    flagged: list[str] = field(default_factory=list)
    #: the paper's finding beside this study's number, one line per target setting (`analysis.findings`)
    verdicts: list[str] = field(default_factory=list)


def _fmt(value: float, digits: int = 2, sign: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def sources_vs_proxies(frame: pd.DataFrame, stats: pd.DataFrame) -> Section:
    """(i) Mean target accuracy by source kind; rank tables per target; tau between sources' rankings."""
    section = Section(
        "sources",
        "(i) Different-dataset sources vs proxy sets",
        "Do cells searched on a different small dataset transfer as well as cells searched on a proxy set of "
        "the target, and does the proxy design change the ranking of methods?",
    )
    scores = cell_scores(frame)
    searched = scores[(scores["method"] != RANDOM) & (scores["eval_role"] == TARGET_ROLE)]
    by_kind = (
        searched.groupby(["eval_dataset", "protocol", "source_kind"], sort=True)
        .agg(
            mean_top1=("top1", "mean"),
            std_top1=("top1", "std"),
            n_cells=("top1", "count"),
            n_sources=("source", "nunique"),
        )
        .reset_index()
    )
    section.tables["Mean target accuracy by source kind"] = by_kind
    for (dataset, protocol), rows in by_kind.groupby(["eval_dataset", "protocol"], sort=True):
        target = str(Setting(dataset, protocol))
        kinds = rows.set_index("source_kind")
        if {"dataset", "proxy"} <= set(kinds.index):
            d, p = kinds.loc["dataset"], kinds.loc["proxy"]
            section.readings.append(
                f"On {target}, cells searched on different datasets reach {_fmt(d.mean_top1)}% and "
                f"cells searched on proxy sets {_fmt(p.mean_top1)}% on average "
                f"({_fmt(p.mean_top1 - d.mean_top1, sign=True)} points for proxies)."
            )
            if min(d.n_cells, p.n_cells) < MIN_POINTS:
                section.too_few.append(
                    f"On {target}, one source kind has fewer than {MIN_POINTS} cells: "
                    f"{TOO_FEW} on source kinds."
                )
        else:
            only = ", ".join(kinds.index)
            section.too_few.append(
                f"On {target}, only {only} sources: "
                f"{TOO_FEW} whether proxies transfer better than other datasets."
            )
    for setting in settings(frame, TARGET_ROLE):
        table = rank_table(stats, setting)
        if not table.empty:
            section.tables[f"Method ranks on {setting} by source (1 = best)"] = table
    taus = ranking_agreement(stats)
    section.tables["Kendall tau-b between the method rankings of two sources"] = taus
    valid = taus.dropna(subset=["kendall_tau_b"])
    if valid.empty:
        section.too_few.append(
            f"No two sources share {MIN_POINTS} or more methods on a target: "
            f"{TOO_FEW} whether the source changes the ranking of methods."
        )
    else:
        tau = valid["kendall_tau_b"].mean()
        verdict = "changes the ranking of methods considerably" if tau < 0.5 else "keeps most of the ranking"
        section.readings.append(
            f"The rankings of methods from two sources agree with a mean Kendall tau of {_fmt(tau)} over "
            f"{len(valid)} source pair(s) (1 = same order): the choice of source {verdict}."
        )
    return section


def spread_source_vs_target(frame: pd.DataFrame, stats: pd.DataFrame) -> Section:
    """(ii) Range and std of the methods' means on the source and on each target."""
    section = Section(
        "spread",
        "(ii) Spread of methods on the source vs on the target",
        "Do methods that look alike on the source differ once their cells are trained on the target?",
    )
    searched = stats[stats["method"] != RANDOM]
    rows = []
    for source in sorted(s for s in searched["source"].unique() if s):
        for target in settings(frame, TARGET_ROLE):
            src_protocol = matching_source_protocol(frame, source, target)
            on_target = searched[
                (searched["source"] == source)
                & (searched["eval_dataset"] == target.eval_dataset)
                & (searched["protocol"] == target.protocol)
            ].set_index("method")["mean"]
            if src_protocol is None or on_target.empty:
                continue
            on_source = searched[
                (searched["source"] == source)
                & (searched["eval_dataset"] == source)
                & (searched["protocol"] == src_protocol)
            ].set_index("method")["mean"]
            both = pd.concat({"s": on_source, "t": on_target}, axis=1, join="inner").dropna()
            rows.append(
                {
                    "source": source,
                    "source_protocol": src_protocol,
                    "target": str(target),
                    "n_methods": len(both),
                    "source_range": float(np.ptp(both["s"])) if len(both) else math.nan,
                    "source_std": float(both["s"].std()) if len(both) > 1 else math.nan,
                    "target_range": float(np.ptp(both["t"])) if len(both) else math.nan,
                    "target_std": float(both["t"].std()) if len(both) > 1 else math.nan,
                }
            )
    table = pd.DataFrame(
        rows,
        columns=[
            "source",
            "source_protocol",
            "target",
            "n_methods",
            "source_range",
            "source_std",
            "target_range",
            "target_std",
        ],
    )
    section.tables["Spread of method means (points of top-1)"] = table
    wider = 0
    for row in table.itertuples(index=False):
        if row.n_methods < 2:
            section.too_few.append(
                f"Searched on {row.source}, {row.n_methods} method(s) reach {row.target}: "
                f"{TOO_FEW} on the spread of methods."
            )
            continue
        link = "but" if row.target_range > row.source_range else "and"
        section.readings.append(
            f"Searched on {row.source}, methods differ by {_fmt(row.source_range)} points on the source "
            f"{link} {_fmt(row.target_range)} on {row.target}."
        )
        wider += row.target_range > row.source_range
        if row.n_methods < MIN_POINTS:
            section.too_few.append(
                f"Only {row.n_methods} methods from {row.source} on {row.target}: the spread is "
                f"one difference, {TOO_FEW}."
            )
    judged = int((table["n_methods"] >= 2).sum())
    if judged:
        section.readings.append(
            f"Methods spread more on the target than on the source in {wider} of {judged} "
            "source-target pair(s)."
        )
    else:
        section.too_few.append(f"No source has two methods evaluated on both it and a target: {TOO_FEW}.")
    if not searched.empty and searched["n_seeds"].max() < 2:
        section.too_few.append("One search seed per method: the spread mixes method and seed differences.")
    return section


def random_vs_methods(frame: pd.DataFrame, vs: pd.DataFrame, *, seed: int) -> Section:
    """(iii) RI per method per target with its interval (`vs` from `versus_random`), percentile among
    random cells, paired test."""
    section = Section(
        "random",
        "(iii) The random baseline vs the methods",
        "How do searched cells compare with cells sampled at random from the space and trained the same way?",
    )
    on_targets = vs[vs["eval_role"] == TARGET_ROLE]
    section.tables["Relative improvement over random on the targets"] = on_targets
    tests = paired_test_vs_random(vs, seed=seed)
    section.tables["Paired sign-flip test of method vs random over settings"] = tests
    scores = cell_scores(frame)
    random_cells = scores[scores["method"] == RANDOM]
    baseline = (
        random_cells.groupby(["eval_dataset", "eval_role", "protocol"], sort=True)["top1"]
        .agg(n_cells="count", mean="mean", std="std", min="min", median="median", max="max")
        .reset_index()
    )
    section.tables["Random baseline per setting"] = baseline
    if random_cells.empty:
        section.too_few.append(f"No random cells in the results: {TOO_FEW} on the random baseline.")
        return section
    for (dataset, protocol), rows in on_targets.groupby(["eval_dataset", "protocol"], sort=True):
        target = str(Setting(dataset, protocol))
        n_random = int(rows["n_random"].iloc[0])
        if n_random == 0:
            section.too_few.append(f"No random cells on {target}: {TOO_FEW} there.")
            continue
        best, worst = rows.loc[rows["ri"].idxmax()], rows.loc[rows["ri"].idxmin()]
        wins = int((rows["ri"] > 0).sum())
        section.readings.append(
            f"On {target}, {wins} of {len(rows)} method-source pair(s) beat the random mean "
            f"({_fmt(rows['random_mean'].iloc[0])}%, {n_random} cells); "
            f"RI goes from {_fmt(worst.ri, 1, True)}% ({worst.method} on {worst.source}) "
            f"to {_fmt(best.ri, 1, True)}% ({best.method} on {best.source}), "
            f"and the best sits at the {_fmt(best.percentile, 0)}th percentile of random cells."
        )
        if n_random < MIN_POINTS:
            section.too_few.append(
                f"Only {n_random} random cell(s) on {target}: {TOO_FEW} about the random distribution."
            )
    for row in tests.itertuples(index=False):
        if math.isnan(row.p_value):
            section.too_few.append(f"{row.method}: {row.note}; {TOO_FEW} whether it beats random.")
            continue
        section.readings.append(
            f"{row.method} beats the random mean in {row.wins} of {row.n_pairs} target settings "
            f"(mean {_fmt(row.mean_difference, sign=True)} points, sign-flip p = {_fmt(row.p_value, 3)})."
        )
        if row.n_pairs < MIN_PAIRS_FOR_5_PERCENT:
            section.too_few.append(f"{row.method}: {row.note}, {TOO_FEW} at the 5% level.")
    return section


def protocol_effect(frame: pd.DataFrame) -> Section:
    """(iv) Per evaluation dataset, the mean gain of each later protocol over the base one (shared cells)."""
    section = Section(
        "protocol",
        "(iv) Effect of the training protocol on small vs large datasets",
        "Does a stronger training protocol help on small (source) datasets more than on large (target) ones?",
    )
    scores = cell_scores(frame)
    rows = []
    for (dataset, role), group in scores.groupby(["eval_dataset", "eval_role"], sort=True):
        order = protocol_order(group["protocol"])
        wide = group.pivot_table(
            index=RESULT_KEYS,
            columns="protocol",
            values="top1",
            aggfunc="mean",
        )
        for later in order[1:]:
            gains = (wide[later] - wide[order[0]]).dropna().to_numpy()
            rows.append(
                {
                    "eval_dataset": dataset,
                    "size": "small (source)" if role == SOURCE_ROLE else "large (target)",
                    "protocol_a": order[0],
                    "protocol_b": later,
                    "n_cells": len(gains),
                    "mean_gain": float(gains.mean()) if len(gains) else math.nan,
                    "std_gain": float(gains.std(ddof=1)) if len(gains) > 1 else math.nan,
                    "share_improved": float((gains > 0).mean()) if len(gains) else math.nan,
                }
            )
    table = pd.DataFrame(
        rows,
        columns=[
            "eval_dataset",
            "size",
            "protocol_a",
            "protocol_b",
            "n_cells",
            "mean_gain",
            "std_gain",
            "share_improved",
        ],
    )
    section.tables["Gain of protocol B over protocol A (points of top-1)"] = table
    if table.empty:
        protocols = ", ".join(protocol_order(frame["protocol"]))
        section.too_few.append(
            f"Each dataset is evaluated under one protocol only ({protocols}): {TOO_FEW} on the "
            "effect of the protocol."
        )
        return section
    shared = table[table["n_cells"] > 0]
    for row in table[table["n_cells"] == 0].itertuples(index=False):
        section.too_few.append(
            f"No cell of {row.eval_dataset} is evaluated under both {row.protocol_a} and "
            f"{row.protocol_b}: {TOO_FEW} there."
        )
    for size in ("small (source)", "large (target)"):
        rows = shared[shared["size"] == size]
        if rows.empty:
            section.too_few.append(
                f"No {size.split()[0]} dataset is evaluated under two protocols: {TOO_FEW} on "
                f"{size.split()[0]} datasets."
            )
            continue
        gain = float(np.average(rows["mean_gain"], weights=rows["n_cells"]))
        improved = float(np.average(rows["share_improved"], weights=rows["n_cells"]))
        section.readings.append(
            f"On {size.split()[0]} datasets ({', '.join(rows['eval_dataset'])}), "
            f"the later protocol changes top-1 by {_fmt(gain, sign=True)} points on average "
            f"and improves {improved:.0%} of {int(rows['n_cells'].sum())} cells."
        )
        if rows["n_cells"].sum() < MIN_POINTS:
            section.too_few.append(
                f"Fewer than {MIN_POINTS} cells on {size.split()[0]} datasets under both "
                f"protocols: {TOO_FEW}."
            )
    return section


def answer_questions(
    frame: pd.DataFrame,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    stats: pd.DataFrame | None = None,
    vs: pd.DataFrame | None = None,
) -> list[Section]:
    """The four sections, in the paper's order; `stats` (`method_stats`) and `vs` (`versus_random`) are
    computed here unless the caller, who needs them too, already has them."""
    stats = method_stats(frame) if stats is None else stats
    vs = versus_random(frame, n_boot=n_boot, seed=seed) if vs is None else vs
    return [
        sources_vs_proxies(frame, stats),
        spread_source_vs_target(frame, stats),
        random_vs_methods(frame, vs, seed=seed),
        protocol_effect(frame),
    ]
