"""The "Proxy fidelity" figure: each proxy's Kendall tau (95 % interval) against its cost per cell,
log-scaled, with the Pareto front of fidelity against cost drawn through its members."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from nastransfer.analysis.plots import STYLE, _figure, _slug

FIGURE = "proxy-fidelity-pareto"


def pareto_plot(table: pd.DataFrame, target: str = "") -> dict[str, Figure]:
    """`{FIGURE: figure}` from a `fidelity_table`; empty when no proxy has a tau."""
    rows = table[np.isfinite(table["kendall"]) & (table["cost_per_cell_s"] > 0)]
    if rows.empty:
        return {}
    with matplotlib.rc_context(STYLE):
        fig, (ax,) = _figure(1, width=6.4, height=4.2)
        low = (rows["kendall"] - rows["kendall_low"]).clip(lower=0).fillna(0)
        high = (rows["kendall_high"] - rows["kendall"]).clip(lower=0).fillna(0)
        ax.errorbar(
            rows["cost_per_cell_s"],
            rows["kendall"],
            yerr=[low, high],
            fmt="o",
            color="#1f77b4",
            ecolor="#9ecae1",
            capsize=2,
            markersize=5,
        )
        front = rows[rows["pareto"]].sort_values("cost_per_cell_s")
        ax.step(
            front["cost_per_cell_s"],
            front["kendall"],
            where="post",
            color="#d62728",
            lw=1.2,
            label="Pareto front",
        )
        for _, row in rows.iterrows():
            ax.annotate(
                row["label"],
                (row["cost_per_cell_s"], row["kendall"]),
                fontsize=7,
                xytext=(4, 3),
                textcoords="offset points",
            )
        ax.set_xscale("log")
        ax.set_xlabel("cost per cell (device-seconds, log scale)")
        ax.set_ylabel(f"Kendall τ-b with {target or 'the target'}")
        top = rows["kendall_high"].max()
        ax.set_ylim(
            min(0.0, rows["kendall_low"].min()) - 0.05, 1.0 if math.isnan(top) else min(1.0, top + 0.1)
        )
        ax.legend(loc="lower right")
    return {f"{FIGURE}-{_slug(target)}" if target else FIGURE: fig}
