"""The results frame the analysis reads: its columns, a check, and per-cell scores over training seeds."""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from nastransfer.errors import ConfigError
from nastransfer.results_columns import EVAL_SEED, ORIGIN_COLUMNS, SETTING_COLUMNS

RANDOM = "random"
SOURCE_ROLE = "source"
TARGET_ROLE = "target"

# The columns of `study.load(run_dir)` that the analysis needs (docs/architecture.md, "study and analysis").
REQUIRED_COLUMNS = ("cell", *ORIGIN_COLUMNS, *SETTING_COLUMNS, EVAL_SEED, "top1")
# One searched (or randomly drawn) cell evaluated in one setting; training seeds are averaged away.
CELL_KEYS = [*ORIGIN_COLUMNS, "cell", *SETTING_COLUMNS]
# One search's (or draw's) result across settings: a genotype found by two searches counts twice.
RESULT_KEYS = ["method", "source", "search_seed", "cell"]


class Setting(NamedTuple):
    """Where a cell is evaluated: the dataset and the training protocol."""

    eval_dataset: str
    protocol: str

    def __str__(self) -> str:
        return f"{self.eval_dataset} ({self.protocol})"


def check_frame(frame: pd.DataFrame, where: str = "results frame") -> pd.DataFrame:
    """Return the frame with string keys, or raise one line naming what is missing."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ConfigError(f"{where} lacks column(s) {', '.join(missing)}")
    if frame.empty:
        raise ConfigError(f"{where} holds no results")
    frame = frame.copy()
    for column in ("cell", "method", "source", "source_kind", "eval_dataset", "eval_role", "protocol"):
        frame[column] = frame[column].fillna("").astype(str)
    frame["top1"] = pd.to_numeric(frame["top1"], errors="coerce")
    if frame["top1"].isna().all():
        raise ConfigError(f"{where} has no numeric top1 value")
    bad_roles = sorted(set(frame["eval_role"]) - {SOURCE_ROLE, TARGET_ROLE})
    if bad_roles:
        raise ConfigError(f"{where} has eval_role {bad_roles[0]!r}; expected 'source' or 'target'")
    return frame


def cell_scores(frame: pd.DataFrame, metric: str = "top1") -> pd.DataFrame:
    """One row per cell and setting: `metric` averaged over training seeds, with the search cost."""
    extra = {"n_eval_seeds": (metric, "count")}
    if "search_device_s" in frame.columns:
        extra["search_device_s"] = ("search_device_s", "mean")
    grouped = frame.dropna(subset=[metric]).groupby(CELL_KEYS, sort=True, dropna=False)
    return grouped.agg(**{metric: (metric, "mean")}, **extra).reset_index()


def settings(frame: pd.DataFrame, role: str | None = None) -> list[Setting]:
    """The evaluation settings in the frame (optionally of one role), sorted."""
    rows = frame if role is None else frame[frame["eval_role"] == role]
    pairs = rows[["eval_dataset", "protocol"]].drop_duplicates().itertuples(index=False)
    return sorted(Setting(d, p) for d, p in pairs)


def source_kinds(frame: pd.DataFrame) -> dict[str, str]:
    """Map each source name to its kind (`dataset` or `proxy`)."""
    searched = frame[frame["source"] != ""][["source", "source_kind"]].drop_duplicates()
    return dict(searched.itertuples(index=False))


def in_setting(frame: pd.DataFrame, setting: Setting) -> pd.DataFrame:
    """The rows of the frame evaluated in `setting`."""
    return frame[(frame["eval_dataset"] == setting.eval_dataset) & (frame["protocol"] == setting.protocol)]


def protocol_order(names) -> list[str]:
    """Base protocol first: names containing 'enhanced' go last, otherwise alphabetical."""
    return sorted(set(names), key=lambda name: ("enhanced" in name.lower(), name))


def matching_source_protocol(frame: pd.DataFrame, source: str, target: Setting) -> str | None:
    """The protocol a source was evaluated with that matches the target's: the same place in the
    base-to-enhanced order of each dataset's protocols (source and target protocols differ in name)."""
    on_source = frame[(frame["eval_dataset"] == source) & (frame["eval_role"] == SOURCE_ROLE)]["protocol"]
    if on_source.empty:
        return None
    source_protocols = protocol_order(on_source)
    target_protocols = protocol_order(frame[frame["eval_dataset"] == target.eval_dataset]["protocol"])
    position = target_protocols.index(target.protocol)
    return source_protocols[min(position, len(source_protocols) - 1)]


def matched_sources(frame: pd.DataFrame, target: Setting) -> list[Setting]:
    """Each source (or proxy), by name, in the setting it is compared with `target` in: its own dataset
    under the protocol matching the target's; sources never evaluated on themselves are left out."""
    matched = []
    for source in sorted(source_kinds(frame)):
        protocol = matching_source_protocol(frame, source, target)
        if protocol is not None:
            matched.append(Setting(source, protocol))
    return matched
