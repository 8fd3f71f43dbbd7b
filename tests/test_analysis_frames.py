"""Synthetic results frames for the analysis tests, shaped like a NASTransfer study.

The numbers are synthetic but realistic: each cell has a latent quality q ~ N(0, 1); on CIFAR-10-like sources
top-1 is about 97.0 + 0.15 q (+0.5 with the enhanced protocol), on proxy sources about 88 + 0.8 q, on the
ImageNet-like target about 74.5 + 0.6 q + a method effect (+0.05 with the enhanced protocol), plus training
noise. Random cells are slightly worse on average (q shifted by -0.3). Everything is drawn from one seeded
generator, so a frame is the same every time. The other analysis test files import `study_frame` from here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nastransfer.analysis.frame import REQUIRED_COLUMNS

# Per-method offset of the latent quality (in units of q) and of the target accuracy (points).
METHOD_EFFECTS = {"darts": (0.0, -0.6), "pc-darts": (0.3, 0.5), "gdas": (0.1, -0.2), "p-darts": (0.2, 0.9)}
SOURCES = {"cifar10": ("dataset", 97.0, 0.15), "imagenet-proxy": ("proxy", 88.0, 0.8)}
TARGET = ("imagenet", 74.5, 0.6)
PROTOCOLS = {"source": ("darts-cifar", "enhanced-cifar"), "target": ("darts-imagenet", "enhanced-imagenet")}
PROTOCOL_GAIN = {"source": 0.5, "target": 0.05}


def study_frame(
    methods=("darts", "pc-darts", "gdas", "p-darts"),
    sources=("cifar10", "imagenet-proxy"),
    search_seeds=3,
    eval_seeds=2,
    n_random=8,
    protocols=2,
    seed=0,
) -> pd.DataFrame:
    """A results frame with the columns of docs/architecture.md ("study and analysis")."""
    rng = np.random.default_rng(seed)
    rows = []

    def evaluate(cell, method, source, kind, search_seed, q, target_shift, search_cost):
        settings = []
        if source:
            _, base, slope = SOURCES[source]
            settings += [(source, "source", base, slope, 0.0)]
        dataset, base, slope = TARGET
        settings += [(dataset, "target", base, slope, target_shift)]
        for dataset, role, base, slope, shift in settings:
            for p, protocol in enumerate(PROTOCOLS[role][:protocols]):
                for eval_seed in range(eval_seeds):
                    top1 = base + slope * q + shift + p * PROTOCOL_GAIN[role] + rng.normal(0, 0.08)
                    rows.append(
                        {
                            "cell": cell,
                            "genotype": f"Genotype(<{cell}>)",
                            "space": "darts",
                            "method": method,
                            "source": source,
                            "source_kind": kind,
                            "search_seed": search_seed,
                            "eval_dataset": dataset,
                            "eval_role": role,
                            "protocol": protocol,
                            "eval_seed": eval_seed,
                            "top1": round(float(top1), 2),
                            "top5": round(float(min(99.9, top1 + 17)), 2),
                            "params": int(3_000_000 + 400_000 * q),
                            "flops": int(5e8 + 4e7 * q),
                            "search_wall_s": search_cost * 1.1,
                            "search_device_s": search_cost,
                            "eval_wall_s": 3600.0,
                            "eval_device_s": 3500.0,
                        }
                    )

    for method in methods:
        q_shift, target_shift = METHOD_EFFECTS[method]
        cost = {"darts": 86400.0, "pc-darts": 9000.0, "gdas": 20000.0, "p-darts": 26000.0}[method]
        for source in sources:
            kind = SOURCES[source][0]
            for search_seed in range(search_seeds):
                cell = f"{method}-{source}-{search_seed}"
                q = rng.normal(q_shift, 1.0)
                evaluate(
                    cell, method, source, kind, search_seed, q, target_shift, cost * rng.uniform(0.9, 1.1)
                )
    for draw in range(n_random):
        evaluate(f"random-{draw}", "random", "", "", draw, rng.normal(-0.3, 1.0), 0.0, 0.0)
    return pd.DataFrame(rows)


def test_frame_has_the_documented_columns_and_grid():
    frame = study_frame(search_seeds=2, eval_seeds=1, n_random=3)
    assert set(REQUIRED_COLUMNS) <= set(frame.columns)
    # 4 methods x 2 sources x 2 seeds cells on source + target, 3 random cells on the target; 2 protocols.
    assert len(frame) == (4 * 2 * 2 * 2 + 3) * 2
    assert set(frame["eval_role"]) == {"source", "target"}
    assert frame.equals(study_frame(search_seeds=2, eval_seeds=1, n_random=3))
