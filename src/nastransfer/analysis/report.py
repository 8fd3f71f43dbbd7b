"""The study report: one self-contained HTML page (inline CSS, PNGs embedded as base64) and a Markdown
summary (images linked from `report_files/`), both rendered from the same list of blocks.

It reads a results frame only; `nastransfer report RUN` (the CLI) loads a run's frame and study name.
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nastransfer.analysis import fidelity, fidelity_plot, findings, noise, plots
from nastransfer.analysis.agreement import agreement_table
from nastransfer.analysis.frame import RANDOM, check_frame
from nastransfer.analysis.methods import GROUP, SETTING, method_stats, versus_random
from nastransfer.analysis.questions import Section, answer_questions
from nastransfer.atomic import atomic_write_text
from nastransfer.errors import ConfigError

FORMATS = ("html", "md")
FILES = "report_files"
_CONTEXT_COLUMNS = ("eval_role", "source_kind")
_LABELS = {
    "ri": "RI %",
    "n_seeds": "seeds",
    "n_cells": "cells",
    "n_random": "random cells",
    "n_pairs": "pairs",
    "n_methods": "methods",
    "n_sources": "sources",
    "mean_top1": "mean top-1",
    "std_top1": "std top-1",
    "kendall_tau_b": "Kendall τ-b",
    "spearman_rho": "Spearman ρ",
    "pearson_r": "Pearson r",
    "top_k_overlap": "top-k overlap",
    "p_value": "p",
    "cell_percentile": "cell percentile",
}


@dataclass
class Block:
    """One piece of the report: a heading, a paragraph, a list of readings, a warning, a table or a figure."""

    kind: str
    text: str = ""
    items: tuple[str, ...] = ()
    table: pd.DataFrame | None = None
    figure: str = ""


def _cell(value, whole: bool = False) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:.0f}" if whole else f"{value:.2f}"
    return "–" if value is None or value == "" else str(value)


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """Strings to show: `x`, `x_low`, `x_high` become 'x [low, high]'; dataset and protocol become one
    setting; constant context columns are dropped; numbers get two decimals (p-values three)."""
    table = table.copy()
    if {"eval_dataset", "protocol"} <= set(table.columns):
        table.insert(
            list(table.columns).index("eval_dataset"),
            "setting",
            table["eval_dataset"] + " (" + table["protocol"] + ")",
        )
        table = table.drop(columns=["eval_dataset", "protocol"])
    for column in _CONTEXT_COLUMNS:
        if column in table.columns and table[column].nunique() <= 1:
            table = table.drop(columns=column)
    if {"source", "source_kind"} <= set(table.columns):  # the source's name says its kind
        table = table.drop(columns="source_kind")
    shown = pd.DataFrame(index=table.index)
    for column in table.columns:
        if column.endswith(("_low", "_high")) and column.rsplit("_", 1)[0] in table.columns:
            continue
        values = table[column]
        if f"{column}_low" in table.columns and f"{column}_high" in table.columns:
            shown[f"{_LABELS.get(column, column)} [95% CI]"] = [
                _cell(v) if math.isnan(lo) or math.isnan(hi) else f"{v:.2f} [{lo:.2f}, {hi:.2f}]"
                for v, lo, hi in zip(values, table[f"{column}_low"], table[f"{column}_high"], strict=True)
            ]
        elif column == "p_value":
            shown[column] = ["–" if math.isnan(v) else f"{v:.3f}" for v in values]
        else:
            numbers = pd.to_numeric(values, errors="coerce").dropna() if values.dtype.kind == "f" else []
            whole = len(numbers) > 0 and bool((numbers == numbers.round()).all())
            shown[column] = [_cell(v, whole) for v in values]
    shown.columns = [_LABELS.get(c, c).replace("_", " ") for c in shown.columns]
    return shown.reset_index(drop=True)


def method_summary(stats: pd.DataFrame, vs: pd.DataFrame) -> pd.DataFrame:
    """Per method group and setting: seeds, mean ± std top-1, rank among methods, RI with its interval, and
    the percentile of the mean among the random cells (read from `method_stats` and `versus_random`)."""
    merged = stats.merge(
        vs[GROUP + SETTING + ["ri", "ri_low", "ri_high", "percentile"]], on=GROUP + SETTING, how="left"
    )
    merged = merged.sort_values(
        ["eval_role", "eval_dataset", "protocol", "source", "method"],
        ascending=[False, True, True, True, True],
    )
    top1 = [
        f"{m:.2f} ± {s:.2f}" if not math.isnan(s) else f"{m:.2f}"
        for m, s in zip(merged["mean"], merged["std"], strict=True)
    ]
    summary = merged[["method", "source"] + SETTING + ["n_seeds"]].copy()
    summary["top1 (mean ± std)"] = top1
    summary[["rank", "ri", "ri_low", "ri_high", "percentile"]] = merged[
        ["rank", "ri", "ri_low", "ri_high", "percentile"]
    ].to_numpy()
    return summary.reset_index(drop=True)


def cost_blocks(cost: dict) -> list[Block]:
    """The run's cost: per task kind, the plan's device-seconds against the measured ones, and the total."""
    rows = [
        {
            "task": kind,
            "tasks": entry["tasks"],
            "estimated device-s": entry["estimated_device_s"],
            "measured device-s": entry["measured_device_s"],
            "measured / estimated": entry["measured_device_s"] / entry["estimated_device_s"]
            if entry["estimated_device_s"] > 0
            else math.nan,
        }
        for kind, entry in cost["kinds"].items()
    ]
    how = (
        "measured on the planning machine" if cost["estimated_from"] == "measured" else "estimated from FLOPs"
    )
    text = (
        f"This run cost {cost['measured_total']} ({cost['measured_device_s']:,.0f} device-seconds on "
        f"{cost['device']}); the plan ({how}) expected {cost['planned_total']} for the whole study. "
        "Device-seconds are process CPU-seconds on the CPU and GPU-seconds on GPUs; a training shared by "
        "two tasks counts once."
    )
    return [
        Block("h2", "Cost"),
        Block("p", text),
        Block("table", "Estimated vs measured cost", table=pd.DataFrame(rows)),
    ]


def _blocks(frame: pd.DataFrame, title: str, *, n_boot: int, seed: int) -> tuple[list[Block], dict]:
    """The report as blocks, and the figures by name."""
    colours = plots.method_colours(frame)
    stats = method_stats(frame)  # computed once: the summary, the questions and the plots share them
    vs = versus_random(frame, n_boot=n_boot, seed=seed)
    sections = answer_questions(frame, n_boot=n_boot, seed=seed, stats=stats, vs=vs)
    floor = noise.noise_floor(frame, n_boot=n_boot, seed=seed)
    _judge(sections, frame, floor, n_boot=n_boot, seed=seed)
    figures_for = {
        "sources": plots.rank_bump(stats, colours),
        "spread": plots.source_vs_target(frame),
        "random": plots.against_random(frame),
        "protocol": plots.protocol_gain(
            next(iter(s for s in sections if s.key == "protocol")).tables[
                "Gain of protocol B over protocol A (points of top-1)"
            ]
        ),
        "cost": plots.cost_vs_accuracy(frame),
    }
    searched = frame[frame["method"] != RANDOM]
    overview = (
        f"{len(frame)} evaluations of {frame['cell'].nunique()} cells: "
        f"{searched['method'].nunique()} method(s) searched on {searched['source'].nunique()} source(s) "
        f"with {searched['search_seed'].nunique()} seed(s), "
        f"{frame[frame['method'] == RANDOM]['cell'].nunique()} random cell(s), evaluated on "
        f"{frame['eval_dataset'].nunique()} dataset(s) under {frame['protocol'].nunique()} protocol(s) with "
        f"{frame['eval_seed'].nunique()} training seed(s). Intervals are 95% percentile bootstraps "
        f"({n_boot} resamples, seed {seed})."
    )
    blocks = [Block("title", title), Block("p", overview), Block("h2", "Summary per method")]
    blocks.append(
        Block(
            "p",
            "Top-1 in percent over search seeds; rank among the searched methods from the same "
            "source in that setting (1 = best); RI = 100 (acc − random mean) / random mean; "
            "percentile of the method's mean among the random cells of that setting.",
        )
    )
    blocks.append(Block("table", "Per-method summary", table=method_summary(stats, vs)))
    blocks += noise_blocks(floor)
    for section in sections:
        blocks += _section_blocks(section, figures_for.get(section.key, {}))
    blocks.append(Block("h2", "Agreement between evaluation settings"))
    blocks.append(
        Block(
            "p",
            "Over the cells evaluated in both settings (training seeds averaged): rank and linear "
            "correlations and the share of the top quarter of cells that both settings agree on.",
        )
    )
    blocks.append(Block("table", "Agreement table", table=agreement_table(frame, n_boot=n_boot, seed=seed)))
    if figures_for["cost"]:
        blocks.append(Block("h2", "Accuracy against search cost"))
        blocks += [Block("figure", figure=name) for name in figures_for["cost"]]
    figures = {name: fig for group in figures_for.values() for name, fig in group.items()}
    return blocks, figures


def fidelity_blocks(
    scores: pd.DataFrame, target_name: str, *, n_boot: int, seed: int
) -> tuple[list[Block], dict]:
    """The "Proxy fidelity" blocks of one target: table, Pareto plot and recommendation."""
    proxies, target = fidelity.from_scores_frame(scores)
    table = fidelity.fidelity_table(proxies, target, n_boot=n_boot, seed=seed)
    figures = fidelity_plot.pareto_plot(table, target_name)
    names = {"kendall": "Kendall τ-b", "spearman": "Spearman ρ", "top5": "top 5 %", "top10": "top 10 %"}
    renamed = {f"{k}{end}": f"{v}{end}" for k, v in names.items() for end in ("", "_low", "_high")}
    renamed.update({"label": "proxy", "cost_per_cell_s": "s per cell", "cost_s": "s in all"})
    shown = table.drop(columns=["proxy", "source"]).rename(columns=renamed)
    shown["pareto"] = ["yes" if v else "" for v in shown["pareto"]]
    blocks = [
        Block(
            "p",
            f"Target {target_name}: {len(target)} cells, each proxy scoring all or a uniform part of "
            "them: Kendall τ-b, Spearman ρ and the overlap of the top 5 % and 10 % of cells, with "
            f"95 % percentile bootstraps over cells ({n_boot} resamples); cost in device-seconds per "
            "cell and in all.",
        ),
        Block("readings", items=(fidelity.recommendation(table, proxies, target, n_boot=n_boot, seed=seed),)),
        *[Block("figure", figure=name) for name in figures],
        Block("table", f"Proxy fidelity to {target_name}", table=shown),
    ]
    return blocks, figures


#: The sections that read rankings of cells or methods off a setting, flagged below the noise floor.
_RANKING_SECTIONS = ("sources", "spread")


def _judge(
    sections: list[Section], frame: pd.DataFrame, floor: pd.DataFrame, *, n_boot: int, seed: int
) -> None:
    """Give each section its verdict lines, and flag what it reads off settings below the noise floor."""
    noisy = noise.noisy_settings(floor)
    by_question = findings.verdicts(frame, n_boot=n_boot, seed=seed)
    for section in sections:
        for verdict in by_question.get(section.key, []):
            line = verdict.line()
            tau = next((t for s, t in noisy.items() if str(s) == verdict.setting), None)
            if tau is not None:
                line += (
                    f" Flagged: seed-to-seed Kendall tau on this setting is {tau:.2f} (< {noise.NOISY_TAU})."
                )
            section.verdicts.append(line)
        if section.key == "random":
            table = findings.methods_vs_random(frame, n_boot=n_boot, seed=seed)
            section.tables["Each method's cells minus the random cells on the targets (points)"] = table
        if not section.verdicts:
            section.verdicts.append(
                f"{findings.CANNOT_TELL}: the study has no data for this question. "
                f"The paper: {findings.PAPER[section.key]}."
            )
        if section.key in _RANKING_SECTIONS:
            section.flagged += [
                f"Rankings on {setting} are within training noise: seed-to-seed Kendall tau {tau:.2f} "
                f"(< {noise.NOISY_TAU})."
                for setting, tau in noisy.items()
            ]


def noise_blocks(floor: pd.DataFrame) -> list[Block]:
    """The "Noise floor" section: seed-to-seed agreement of each setting trained under several seeds."""
    blocks = [
        Block("h2", "Noise floor"),
        Block(
            "question",
            "How far do two trainings of the same cells agree? A ranking is only as good as its setting's.",
        ),
    ]
    if floor.empty:
        return blocks + [
            Block(
                "too_few",
                items=(
                    "No setting is trained under two or more seeds: the training noise is unknown and "
                    "cannot be told apart from the differences between cells.",
                ),
            )
        ]
    return blocks + [
        Block("readings", items=tuple(noise.readings(floor))),
        Block("table", "Seed-to-seed agreement per setting", table=floor),
    ]


def _section_blocks(section: Section, figures: dict) -> list[Block]:
    blocks = [Block("h2", section.title), Block("question", section.question)]
    if section.readings:
        blocks.append(Block("readings", items=tuple(section.readings)))
    if section.flagged:
        blocks.append(Block("flagged", items=tuple(section.flagged)))
    if section.too_few:
        blocks.append(Block("too_few", items=tuple(section.too_few)))
    blocks += [Block("figure", figure=name) for name in figures]
    blocks += [Block("table", caption, table=table) for caption, table in section.tables.items()]
    blocks += [Block("verdict", line) for line in section.verdicts]
    return blocks


def _html_table(caption: str, table: pd.DataFrame) -> str:
    shown = display_table(table)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in shown.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
        for row in shown.itertuples(index=False)
    )
    if shown.empty:
        body = f'<tr><td colspan="{max(1, len(shown.columns))}">no rows</td></tr>'
    return (
        f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def _md_table(caption: str, table: pd.DataFrame) -> str:
    shown = display_table(table)
    if shown.empty:
        return f"**{caption}**: no rows\n"
    escape = lambda text: text.replace("|", "\\|")  # noqa: E731
    lines = [
        f"**{caption}**",
        "",
        "| " + " | ".join(escape(c) for c in shown.columns) + " |",
        "|" + "---|" * len(shown.columns),
    ]
    lines += ["| " + " | ".join(escape(v) for v in row) + " |" for row in shown.itertuples(index=False)]
    return "\n".join(lines) + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1150px;margin:24px auto;
padding:0 16px;color:#222;line-height:1.45;background:#fff}
h1{font-size:1.6em;border-bottom:2px solid #1f77b4;padding-bottom:6px}
h2{font-size:1.25em;margin-top:2em;color:#1f4e79;border-bottom:1px solid #ddd;padding-bottom:4px}
.question{font-style:italic;color:#555}
ul.readings li{margin:4px 0}
.too-few{background:#fff6d6;border-left:4px solid #e0a800;padding:8px 12px;margin:10px 0}
.verdict{background:#eef6ee;border-left:4px solid #2ca02c;padding:8px 12px;margin:10px 0}
table{border-collapse:collapse;margin:14px 0;font-size:0.82em;width:auto}
caption{text-align:left;font-weight:600;padding:4px 0;color:#333;white-space:nowrap}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right;white-space:nowrap}
th{background:#eef3f8}
td:first-child,th:first-child{text-align:left}
tr:nth-child(even) td{background:#fafafa}
figure{margin:14px 0}
.wide{overflow-x:auto}
img{max-width:100%;border:1px solid #eee}
"""


def _render_html(blocks: list[Block], pngs: dict[str, bytes]) -> str:
    title = next(b.text for b in blocks if b.kind == "title")
    parts = []
    for block in blocks:
        if block.kind == "title":
            parts.append(f"<h1>{html.escape(block.text)}</h1>")
        elif block.kind == "h2":
            parts.append(f"<h2>{html.escape(block.text)}</h2>")
        elif block.kind == "p":
            parts.append(f"<p>{html.escape(block.text)}</p>")
        elif block.kind == "question":
            parts.append(f'<p class="question">{html.escape(block.text)}</p>')
        elif block.kind == "readings":
            items = "".join(f"<li>{html.escape(t)}</li>" for t in block.items)
            parts.append(f'<p><b>Reading</b></p><ul class="readings">{items}</ul>')
        elif block.kind == "too_few":
            items = "<br>".join(html.escape(t) for t in block.items)
            parts.append(f'<div class="too-few"><b>Too few data</b><br>{items}</div>')
        elif block.kind == "flagged":
            items = "<br>".join(html.escape(t) for t in block.items)
            parts.append(f'<div class="too-few"><b>Flagged: below the noise floor</b><br>{items}</div>')
        elif block.kind == "verdict":
            parts.append(f'<p class="verdict"><b>Verdict</b> {html.escape(block.text)}</p>')
        elif block.kind == "table":
            parts.append(f'<div class="wide">{_html_table(block.text, block.table)}</div>')
        elif block.kind == "figure":
            data = base64.b64encode(pngs[block.figure]).decode("ascii")
            parts.append(
                f'<figure><img alt="{html.escape(block.figure)}" src="data:image/png;base64,{data}"></figure>'
            )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n"
    )


def _render_md(blocks: list[Block]) -> str:
    parts = []
    for block in blocks:
        if block.kind == "title":
            parts.append(f"# {block.text}\n")
        elif block.kind == "h2":
            parts.append(f"## {block.text}\n")
        elif block.kind == "p":
            parts.append(block.text + "\n")
        elif block.kind == "question":
            parts.append(f"*{block.text}*\n")
        elif block.kind == "readings":
            parts.append("**Reading**\n\n" + "\n".join(f"- {t}" for t in block.items) + "\n")
        elif block.kind == "too_few":
            parts.append("> **Too few data**\n" + "\n".join(f"> - {t}" for t in block.items) + "\n")
        elif block.kind == "flagged":
            lines = "\n".join(f"> - {t}" for t in block.items)
            parts.append("> **Flagged: below the noise floor**\n" + lines + "\n")
        elif block.kind == "verdict":
            parts.append(f"**Verdict** {block.text}\n")
        elif block.kind == "table":
            parts.append(_md_table(block.text, block.table))
        elif block.kind == "figure":
            parts.append(f"![{block.figure}]({FILES}/{block.figure}.png)\n")
    return "\n".join(parts)


def check_report_dir(out_dir: Path) -> None:
    """Where the report goes can hold folders: a file in the way is named instead of a traceback."""
    for path in (out_dir, out_dir / "report", out_dir / "report" / FILES):
        if path.exists() and not path.is_dir():
            raise ConfigError(f"{path}: is a file, not a folder; give --out a folder")


def _report_folder(out_dir: Path) -> Path:
    """`out_dir/report`, created."""
    check_report_dir(out_dir)
    folder = out_dir / "report"
    try:
        (folder / FILES).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"{folder}: cannot create the report folder ({err.strerror})") from None
    return folder


def build_report_from_frame(
    frame: pd.DataFrame,
    out_dir: str | Path,
    *,
    title: str = "NASTransfer study report",
    formats=FORMATS,
    n_boot: int = 1000,
    seed: int = 0,
    cost: dict | None = None,
    fidelity_n_boot: int | None = None,
    scores: pd.DataFrame | None = None,
) -> Path:
    """Write `out_dir/report/report.html` and/or `report.md` (figures in `report/report_files/`, PNG and SVG)
    from a results frame (and, when given, a run's `cost.json` and a `[fidelity]` section's scores
    frame: cell, genotype, proxy, source, score, target, cost_s, target_name); return the HTML path
    when HTML was asked for, else the Markdown path. The proxy-fidelity intervals take
    `fidelity_n_boot` resamples when given (a study's `fidelity.n_boot`), else `n_boot`."""
    formats = tuple(formats)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ConfigError(
            f"report format {unknown[0] if unknown else '(none)'!r} unknown; use html and/or md"
        )
    scores = pd.DataFrame() if scores is None else scores
    folder = _report_folder(Path(out_dir))
    blocks, figures = [Block("title", title)], {}
    if not frame.empty or scores.empty:
        blocks, figures = _blocks(check_frame(frame), title, n_boot=n_boot, seed=seed)
    if not scores.empty:
        blocks += [
            Block("h2", "Proxy fidelity"),
            Block("question", "Which cheap proxy ranks the cells as the target does, and at what cost?"),
        ]
        for name, part in scores.groupby("target_name", sort=True):
            more_blocks, more_figures = fidelity_blocks(
                part, str(name), n_boot=n_boot if fidelity_n_boot is None else fidelity_n_boot, seed=seed
            )
            blocks += more_blocks
            figures.update(more_figures)
    if cost is not None:
        blocks += cost_blocks(cost)
    pngs = {name: plots.save_figure(fig, folder / FILES, name)[1] for name, fig in figures.items()}
    written = {}
    if "html" in formats:
        written["html"] = folder / "report.html"
        atomic_write_text(written["html"], _render_html(blocks, pngs))
    if "md" in formats:
        written["md"] = folder / "report.md"
        atomic_write_text(written["md"], _render_md(blocks))
    return written.get("html", written.get("md"))
