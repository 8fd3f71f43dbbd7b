"""The report's figures, drawn with matplotlib's object API (no pyplot state) in one style.

Each function takes the checked results frame (or a table computed from it) and returns `{name: Figure}`,
one figure per target setting where that applies; `save_figure` writes PNG and SVG.
"""

from __future__ import annotations

import hashlib
import io
import math
from pathlib import Path

import matplotlib
import matplotlib.image
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter
from scipy import stats as scipy_stats

from nastransfer.analysis.agreement import MIN_POINTS, kendall_tau_b
from nastransfer.analysis.frame import (
    RANDOM,
    TARGET_ROLE,
    Setting,
    cell_scores,
    in_setting,
    matched_sources,
    settings,
)

STYLE = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "svg.fonttype": "none",
    # Figures choose their layout engine themselves; `save_figure` relies on `None` meaning "no engine".
    "figure.autolayout": False,
    "figure.constrained_layout.use": False,
}
PNG_DPI = 110
RANDOM_COLOUR = "#8c8c8c"
_PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#bcbd22"]


def method_colours(frame: pd.DataFrame) -> dict[str, str]:
    """One colour per method, the same in every figure; grey for the random baseline."""
    methods = sorted(m for m in frame["method"].unique() if m != RANDOM)
    colours = {m: _PALETTE[i % len(_PALETTE)] for i, m in enumerate(methods)}
    colours[RANDOM] = RANDOM_COLOUR
    return colours


def _figure(n_panels: int = 1, width: float = 4.2, height: float = 3.4) -> tuple[Figure, list]:
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width * n_panels, height), layout="constrained")
        axes = fig.subplots(1, n_panels, squeeze=False)[0]
    return fig, list(axes)


MAX_SLUG = 80  # file names stay far below the 255 bytes a file system allows


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-").lower()


def _add(figures: dict[str, Figure], prefix: str, label: str, fig: Figure) -> None:
    """File `fig` under a name made from `label`: a long label is cut, and two labels with one slug
    (`cite seer`, `cite-seer`) get distinct names from a hash, so no figure replaces another."""
    slug = _slug(label)
    name = f"{prefix}-{slug[:MAX_SLUG]}"
    if len(slug) > MAX_SLUG or name in figures:
        name += "-" + hashlib.sha256(label.encode()).hexdigest()[:8]
    figures[name] = fig


def source_vs_target(frame: pd.DataFrame) -> dict[str, Figure]:
    """Per target setting, one panel per source: each cell's accuracy on its source against the target,
    coloured by method, with Kendall tau-b over all cells in the title and per method in the legend."""
    scores, colours, figures = cell_scores(frame), method_colours(frame), {}
    for target in settings(frame, TARGET_ROLE):
        panels = []
        for source in matched_sources(frame, target):
            # the cells searched on this source and the random ones: a cell that two sources (or two
            # seeds) found is one point per finding, as in the results
            keys = ["method", "source", "search_seed", "cell"]
            mine = scores[scores["source"].isin([source.eval_dataset, ""])]
            role = mine["eval_role"]
            on_source = in_setting(mine[role != TARGET_ROLE], source).set_index(keys)["top1"]
            on_target = in_setting(mine[role == TARGET_ROLE], target).set_index(keys)["top1"]
            both = pd.concat({"s": on_source, "t": on_target}, axis=1, join="inner").dropna().reset_index()
            if not both.empty:
                panels.append((source, both))
        if not panels:
            continue
        with matplotlib.rc_context(STYLE):
            fig, axes = _figure(len(panels), width=5.0)
            for ax, (source, both) in zip(axes, panels, strict=True):
                for method, rows in both.groupby("method", sort=True):
                    label = method
                    if len(rows) >= MIN_POINTS:
                        tau = kendall_tau_b(rows["s"].to_numpy(), rows["t"].to_numpy())[0]
                        label += f" (τ={tau:.2f})" if not math.isnan(tau) else ""
                    ax.scatter(rows["s"], rows["t"], s=22, color=colours[method], label=label, alpha=0.85)
                tau = (
                    kendall_tau_b(both["s"].to_numpy(), both["t"].to_numpy())[0]
                    if len(both) >= 2
                    else math.nan
                )
                ax.set_title(
                    f"{source.eval_dataset} → {target.eval_dataset}: "
                    f"Kendall τ_b = {tau:.2f} (n = {len(both)})"
                )
                ax.set_xlabel(f"top-1 on source {source} (%)")
                ax.set_ylabel(f"top-1 on target {target} (%)")
                ax.legend(loc="best")
        _add(figures, "scatter", str(target), fig)
    return figures


def rank_bump(stats: pd.DataFrame, colours: dict[str, str]) -> dict[str, Figure]:
    """Per target setting, the rank of each method (1 = best) when searched on each source."""
    figures = {}
    targets = stats[(stats["eval_role"] == TARGET_ROLE) & (stats["method"] != RANDOM)]
    for (dataset, protocol), rows in targets.groupby(["eval_dataset", "protocol"], sort=True):
        sources = sorted(rows["source"].unique())
        with matplotlib.rc_context(STYLE):
            fig, (ax,) = _figure(1, width=max(3.6, 1.6 * len(sources) + 2.0))
            for method, group in rows.groupby("method", sort=True):
                x = [sources.index(s) for s in group["source"]]
                ax.plot(
                    x, group["rank"], "-o", color=colours[method], label=method, linewidth=2, markersize=6
                )
            ax.set_xticks(range(len(sources)), sources)
            ax.set_xlim(-0.4, len(sources) - 0.6)
            ax.set_yticks(range(1, int(rows["rank"].max()) + 1))
            ax.invert_yaxis()
            ax.set_ylabel("rank of method (1 = best)")
            ax.set_xlabel("source searched on")
            ax.set_title(f"Method ranks on {Setting(dataset, protocol)}")
            ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
        _add(figures, "ranks", str(Setting(dataset, protocol)), fig)
    return figures


def _mean_interval(values: np.ndarray) -> tuple[float, float]:
    """Mean and the half-width of its 95% t-interval (0 with one value)."""
    if len(values) < 2:
        return float(values.mean()), 0.0
    sem = values.std(ddof=1) / math.sqrt(len(values))
    return float(values.mean()), float(scipy_stats.t.ppf(0.975, len(values) - 1) * sem)


def against_random(frame: pd.DataFrame) -> dict[str, Figure]:
    """Per target setting: the random cells' distribution (violin and box) and each method-source group's
    seeds with their mean and 95% interval."""
    scores, colours, figures = cell_scores(frame), method_colours(frame), {}
    for target in settings(frame, TARGET_ROLE):
        rows = in_setting(scores, target)
        random = rows[rows["method"] == RANDOM]["top1"].to_numpy()
        groups = list(rows[rows["method"] != RANDOM].groupby(["method", "source"], sort=True))
        with matplotlib.rc_context(STYLE):
            fig, (ax,) = _figure(1, width=max(4.5, 0.55 * (len(groups) + 1) + 2.5), height=3.8)
            if len(random) >= 2:
                violin = ax.violinplot(random, positions=[0], widths=0.8, showextrema=False)
                for body in violin["bodies"]:
                    body.set_facecolor(RANDOM_COLOUR)
                    body.set_alpha(0.35)
                ax.boxplot(random, positions=[0], widths=0.18, showfliers=False)
            if len(random):
                ax.scatter(np.zeros(len(random)), random, s=10, color=RANDOM_COLOUR, zorder=3)
                ax.axhline(random.mean(), color=RANDOM_COLOUR, linestyle="--", linewidth=1)
            for x, ((method, _), group) in enumerate(groups, start=1):
                values = group["top1"].to_numpy()
                mean, half = _mean_interval(values)
                ax.scatter(np.full(len(values), x + 0.12), values, s=10, color=colours[method], alpha=0.5)
                ax.errorbar([x], [mean], yerr=[half], fmt="o", color=colours[method], capsize=4, markersize=6)
            ax.set_xticks(range(len(groups) + 1), ["random"] + [f"{m}\n{s}" for (m, s), _ in groups])
            ax.tick_params(axis="x", labelsize=7)
            ax.set_ylabel(f"top-1 on {target.eval_dataset} (%)")
            dashed = "; dashed: random mean" if len(random) else ""
            ax.set_title(f"Methods vs the random baseline on {target}\n(mean, 95% CI{dashed})")
        _add(figures, "random", str(target), fig)
    return figures


def protocol_gain(table: pd.DataFrame) -> dict[str, Figure]:
    """Mean gain of protocol B over A per evaluation dataset (95% interval), small and large apart."""
    shared = table[table["n_cells"] > 0]
    if shared.empty:
        return {}
    size_colours = {"small (source)": "#4c72b0", "large (target)": "#dd8452"}
    with matplotlib.rc_context(STYLE):
        fig, (ax,) = _figure(1, width=max(4.0, 0.9 * len(shared) + 2.0))
        for x, row in enumerate(shared.itertuples(index=False)):
            half = 0.0
            if row.n_cells > 1 and not math.isnan(row.std_gain):
                half = scipy_stats.t.ppf(0.975, row.n_cells - 1) * row.std_gain / math.sqrt(row.n_cells)
            ax.bar(x, row.mean_gain, yerr=half, capsize=4, color=size_colours[row.size])
        ax.legend(handles=[Patch(color=c, label=s) for s, c in size_colours.items()], loc="best")
        ax.axhline(0, color="black", linewidth=0.8)
        labels = [
            f"{row.eval_dataset}\n{row.protocol_b}\nover {row.protocol_a}" for row in shared.itertuples()
        ]
        ax.set_xticks(range(len(shared)), labels)
        ax.tick_params(axis="x", labelsize=7)
        ax.set_ylabel("top-1 gain, protocol B − A (points)")
        ax.set_title("Effect of the training protocol (mean over cells, 95% CI)")
    return {"protocol-effect": fig}


def cost_vs_accuracy(frame: pd.DataFrame) -> dict[str, Figure]:
    """Per target setting: each searched cell's target accuracy against the device-seconds of its search;
    the random baseline (no search) is the band of its mean ± std."""
    if "search_device_s" not in frame.columns:
        return {}
    scores, colours, figures = cell_scores(frame), method_colours(frame), {}
    for target in settings(frame, TARGET_ROLE):
        rows = in_setting(scores, target)
        searched = rows[(rows["method"] != RANDOM) & (rows["search_device_s"] > 0)]
        if searched.empty:
            continue
        random = rows[rows["method"] == RANDOM]["top1"]
        with matplotlib.rc_context(STYLE):
            fig, (ax,) = _figure(1, width=5.0)
            for method, group in searched.groupby("method", sort=True):
                ax.scatter(
                    group["search_device_s"] / 3600,
                    group["top1"],
                    s=22,
                    color=colours[method],
                    label=method,
                    alpha=0.85,
                )
            if len(random):
                mean, std = random.mean(), random.std() if len(random) > 1 else 0.0
                ax.axhspan(mean - std, mean + std, color=RANDOM_COLOUR, alpha=0.2, label="random mean ± std")
                ax.axhline(mean, color=RANDOM_COLOUR, linestyle="--", linewidth=1)
            ax.set_xscale("log")
            plain = FuncFormatter(lambda value, _: f"{value:g}")
            ax.xaxis.set_major_formatter(plain)
            ax.xaxis.set_minor_formatter(plain)
            ax.tick_params(axis="x", which="minor", labelsize=7)
            ax.set_xlabel("search cost (device hours, log scale)")
            ax.set_ylabel(f"top-1 on {target.eval_dataset} (%)")
            ax.set_title(f"Accuracy on {target} against search cost")
            ax.legend(loc="best")
        _add(figures, "cost", str(target), fig)
    return figures


def save_figure(fig: Figure, folder: Path, name: str) -> tuple[Path, bytes]:
    """Write `name.png` and `name.svg` into `folder`; return the PNG path and its bytes (for embedding).

    Each format is drawn once: the Agg draw runs the constrained layout, which is then frozen so the SVG
    draw reuses it (`savefig` alone lays the figure out again, in an extra draw, for every format). Saving
    runs under STYLE, so `svg.fonttype` keeps the SVG's text as text rather than paths.
    """
    from nastransfer.runtime import atomic_write_bytes

    with matplotlib.rc_context(STYLE):
        fig.set_dpi(PNG_DPI)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        fig.set_layout_engine(None)
        buffer, svg = io.BytesIO(), io.BytesIO()
        matplotlib.image.imsave(buffer, np.asarray(canvas.buffer_rgba()), format="png", dpi=PNG_DPI)
        fig.savefig(svg, format="svg")
    atomic_write_bytes(folder / f"{name}.svg", svg.getvalue())  # a kill never leaves half a figure
    png = folder / f"{name}.png"
    atomic_write_bytes(png, buffer.getvalue())
    return png, buffer.getvalue()
