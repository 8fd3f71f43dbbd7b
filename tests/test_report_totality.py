"""The report and the export are total over the studies the planner makes: for every shipped config and
for each shape a study file can take (a random draw beside the random baseline, no baseline, no
methods, no source trainings, several training seeds, several source protocols, ...), a run filled in
by `planned_runs.fill_run` gets its report and its export, with every question's verdict line.

The shipped configs' reports are drawn in full; the shapes' figures are built (where the data shape
matters) but not rendered to PNG and SVG, which costs seconds per figure and is the same code for all."""

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from nastransfer import study
from nastransfer.cli.report import report_run
from nastransfer.study import parse_study, resolve
from nastransfer.study.config.validation import load_config
from planned_runs import fill_run

CONFIGS = Path(__file__).parent.parent / "configs"
FMNIST = (CONFIGS / "fmnist-study.toml").read_text()

#: name: (text to replace in fmnist-study.toml, its replacement)
SHAPES = {
    "no-random-baseline": ("[random]\nn = 8\n", "[random]\nn = 0\n"),
    "no-methods": ("[[methods]]\nname", "[[ignored]]\nname"),
    "no-source-trainings": ("[evaluate]\non_source = true", "[evaluate]\non_source = false"),
    "one-source-one-seed": ("seeds = [0, 1]", "seeds = [0]"),
    "two-eval-seeds": ("eval_seeds = [0]", "eval_seeds = [0, 1]"),
    "two-source-eval-seeds": ("source_eval_seeds = [0]", "source_eval_seeds = [0, 1]"),
    "two-source-protocols": (
        'source_protocol = "cpu-mini"',
        'source_protocols = ["cpu-mini", "enhanced-cifar"]',
    ),
    "random-not-on-sources": ("[random]\nn = 8\n", "[random]\nn = 8\nsource_cells = 0\n"),
    "one-protocol": ('protocols = ["cpu-mini", "enhanced-cifar"]', 'protocols = ["cpu-mini"]'),
}


def _shape(name: str):
    old, new = SHAPES[name]
    assert old in FMNIST
    text = FMNIST.replace(old, new)
    if name == "no-methods":  # the methods' tables go, and with them the sections naming them
        data = tomllib.loads(text)
        data.pop("ignored")
    elif name == "one-source-one-seed":
        data = tomllib.loads(text)
        data["sources"] = data["sources"][:1]
    else:
        data = tomllib.loads(text)
    if "protocol_overrides" in data["targets"][0] and name == "one-protocol":
        data["targets"][0]["protocol_overrides"].pop("enhanced-cifar")
    return parse_study(data, where=f"fmnist-study ({name})", data=False)


def _check_run(resolved, run_dir: Path) -> None:
    fill_run(resolved, run_dir)
    frame = study.load(run_dir)
    assert not frame.empty
    page = report_run(run_dir, ("md",), n_boot=50)
    text = Path(page).read_text()
    assert text.count("**Verdict") >= 4 or "Proxy fidelity" in text
    exported = study.export(run_dir, run_dir / "results.csv")
    assert len(pd.read_csv(exported)) == len(frame)


@pytest.mark.parametrize("config", sorted(p.name for p in CONFIGS.glob("*.toml")))
def test_every_shipped_study_gets_its_report(config, tmp_path):
    resolved = resolve(load_config(CONFIGS / config, check_references=False), where=config)
    _check_run(resolved, tmp_path / "run")


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_study_shape_gets_its_report(shape, tmp_path, monkeypatch):
    from nastransfer.analysis import plots

    monkeypatch.setattr(plots, "save_figure", lambda fig, folder, name: (folder / f"{name}.png", b""))
    _check_run(_shape(shape), tmp_path / "run")
