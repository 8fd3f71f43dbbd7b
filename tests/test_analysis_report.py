"""The report built from small frames: tables with the expected rows (HTML and Markdown), the four question
sections with their readings or their 'too few' sentences, figures on disk, a non-blank render in headless
Chromium, and one-line errors for bad runs, frames and formats."""

import importlib.util
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nastransfer.analysis import (
    agreement_table,
    build_report_from_frame,
    check_frame,
    method_stats,
)
from nastransfer.cli.main import main
from nastransfer.cli.report import report_run
from nastransfer.errors import ConfigError
from test_analysis_frames import study_frame

CHROMIUM = Path("/usr/bin/chromium")
SECTION_TITLES = (
    "(i) Different-dataset sources vs proxy sets",
    "(ii) Spread of methods on the source vs on the target",
    "(iii) The random baseline vs the methods",
    "(iv) Effect of the training protocol on small vs large datasets",
)

# A study of table look-ups only (NAS-Bench-Graph): a real run directory in a few seconds.
LOOKUP_STUDY = """
name = "graph-title-check"
space = "graph"

[[sources]]
name = "cora-src"
table = "graph:cora"

[[methods]]
name = "rs"

[budget]
epochs = 1
channels = 1
layers = 1
batch_size = 1
n_samples = 20

[random]
n = 2

[[targets]]
name = "citeseer"
table = "graph:citeseer"

[evaluate]
on_source = false

[executor]
kind = "local"
workers = 1
threads_per_worker = 1
"""


class _Tables(HTMLParser):
    """Collects each table's caption and body rows, and every h2 heading."""

    def __init__(self):
        super().__init__()
        self.tables, self.headings, self._text, self._row, self._in = {}, [], [], None, None

    def handle_starttag(self, tag, attrs):
        if tag in ("caption", "h2", "td", "th"):
            self._in, self._text = tag, []
        elif tag == "tr":
            self._row = []

    def handle_data(self, data):
        if self._in:
            self._text.append(data)

    def handle_endtag(self, tag):
        text = "".join(self._text).strip()
        if tag == "caption":
            self._caption = text
            self.tables[text] = []
        elif tag == "h2":
            self.headings.append(text)
        elif tag == "td":
            self._row.append(text)
        elif tag == "tr" and self._row:
            self.tables[self._caption].append(self._row)
        if tag == self._in:
            self._in = None


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    """A report of 3 methods x 2 sources x 2 seeds, 4 random cells, 2 protocols (9 figures, a few seconds)."""
    frame = study_frame(methods=("darts", "pc-darts", "gdas"), search_seeds=2, eval_seeds=1, n_random=4)
    path = build_report_from_frame(frame, tmp_path_factory.mktemp("rich"), title="Sample study", n_boot=200)
    return frame, path


@pytest.fixture(scope="module")
def sparse(tmp_path_factory):
    """Two methods from one source, one seed, one protocol, two random cells: too few for every question."""
    frame = study_frame(
        methods=("darts", "gdas"), sources=("cifar10",), search_seeds=1, eval_seeds=1, n_random=2, protocols=1
    )
    path = build_report_from_frame(frame, tmp_path_factory.mktemp("sparse"), formats=("md",), n_boot=50)
    return frame, path


def test_report_files_are_written(rich):
    _, path = rich
    folder = path.parent
    assert path == folder / "report.html" and (folder / "report.md").is_file()
    pngs = sorted(p.stem for p in (folder / "report_files").glob("*.png"))
    assert pngs == sorted(p.stem for p in (folder / "report_files").glob("*.svg"))
    assert {name.split("-")[0] for name in pngs} == {"scatter", "ranks", "random", "protocol", "cost"}
    svg = (folder / "report_files" / f"{pngs[0]}.svg").read_text()
    assert "<text" in svg  # saved under the plot style: text stays text, not glyph paths
    page = path.read_text()
    assert (
        page.count("data:image/png;base64,") == len(pngs) and "<link" not in page and 'src="http' not in page
    )


def test_html_tables_have_the_expected_rows(rich):
    frame, path = rich
    parsed = _Tables()
    parsed.feed(path.read_text())
    checked = check_frame(frame)
    assert len(parsed.tables["Per-method summary"]) == len(method_stats(checked))
    assert len(parsed.tables["Agreement table"]) == len(agreement_table(checked, n_boot=0)) == 7
    assert len(parsed.tables["Random baseline per setting"]) == 2
    assert len(parsed.tables["Spread of method means (points of top-1)"]) == 2 * 2
    assert len(parsed.tables["Relative improvement over random on the targets"]) == 3 * 2 * 2
    assert len(parsed.tables["Gain of protocol B over protocol A (points of top-1)"]) == 3
    # method, source, setting, eval role, seeds, top-1, rank, RI [CI], percentile
    ri_cells = [
        row[7] for row in parsed.tables["Per-method summary"] if row[0] != "random" and row[3] == "target"
    ]
    assert len(ri_cells) == 3 * 2 * 2
    assert all(re.fullmatch(r"-?\d+\.\d\d \[-?\d+\.\d\d, -?\d+\.\d\d\]", c) for c in ri_cells), ri_cells
    for heading in SECTION_TITLES:
        assert heading in parsed.headings


def test_markdown_has_the_same_tables_and_linked_images(rich):
    frame, path = rich
    text = (path.parent / "report.md").read_text()
    blocks = {m.group(1): m.group(2) for m in re.finditer(r"\*\*(.+?)\*\*\n\n((?:\|.*\n)+)", text)}
    assert len(blocks["Per-method summary"].splitlines()) - 2 == len(method_stats(check_frame(frame)))
    assert len(blocks["Agreement table"].splitlines()) - 2 == 7
    for link in re.findall(r"!\[.*?\]\((report_files/.+?\.png)\)", text):
        assert (path.parent / link).is_file()
    for heading in SECTION_TITLES:
        assert f"## {heading}" in text


def test_sections_state_their_readings(rich):
    text = (rich[1].parent / "report.md").read_text()
    assert re.search(
        r"cells searched on different datasets reach \d+\.\d\d% and cells searched on proxy sets", text
    )
    assert re.search(
        r"rankings of methods from two sources agree with a mean Kendall tau of -?\d\.\d\d", text
    )
    assert re.search(
        r"methods differ by \d+\.\d\d points on the source (but|and) \d+\.\d\d on imagenet", text
    )
    assert re.search(r"\d of 6 method-source pair\(s\) beat the random mean", text)
    assert re.search(r"On small datasets .* changes top-1 by [+-]\d\.\d\d points", text)
    assert re.search(r"On large datasets .* changes top-1 by [+-]\d\.\d\d points", text)


def test_too_few_data_is_said_in_every_section(sparse):
    _, path = sparse
    assert path.name == "report.md" and not (path.parent / "report.html").exists()
    text = path.read_text()
    sections = re.split(r"^## ", text, flags=re.M)
    by_title = {s.splitlines()[0]: s for s in sections[1:]}
    expected = {
        SECTION_TITLES[0]: [
            "only dataset sources: too few to conclude",
            "No two sources share 3 or more methods",
        ],
        SECTION_TITLES[1]: ["Only 2 methods from cifar10", "One search seed per method"],
        SECTION_TITLES[2]: [
            "Only 2 random cell(s) on imagenet",
            "1 pair(s): too few for a test; too few to conclude",
        ],
        SECTION_TITLES[3]: [
            "evaluated under one protocol only",
            "too few to conclude on the effect of the protocol",
        ],
    }
    for title, sentences in expected.items():
        for sentence in sentences:
            assert sentence in by_title[title], (title, sentence)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium absent (Debian package `chromium`)")
def test_html_renders_in_headless_chromium(rich, tmp_path):
    shot = tmp_path / "shot.png"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1200,2000",
        rich[1].as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape[:2] == (2000, 1200)
    non_white = (pixels < 245).any(axis=2).mean()
    colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
    assert non_white > 0.05 and colours > 50, (non_white, colours)
    shutil.copy(shot, rich[1].parent / "screenshot.png")


def test_bad_frames_and_formats_are_one_line_errors(tmp_path):
    frame = study_frame(methods=("darts",), sources=("cifar10",), search_seeds=1, eval_seeds=1, n_random=1)
    with pytest.raises(ConfigError, match="lacks column"):
        build_report_from_frame(frame.drop(columns=["eval_role"]), tmp_path)
    with pytest.raises(ConfigError, match="holds no results"):
        build_report_from_frame(frame.iloc[:0], tmp_path)
    with pytest.raises(ConfigError, match="report format 'pdf' unknown"):
        build_report_from_frame(frame, tmp_path, formats=("pdf",))


def test_cli_rejects_missing_and_empty_run_dirs(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "is empty" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "empty"), "--format", "pdf"]) == 2
    (tmp_path / "stray").mkdir()
    (tmp_path / "stray" / "notes.txt").write_text("not a run")
    assert main(["report", str(tmp_path / "stray")]) == 2  # read through nastransfer.study.load
    assert "not a study run directory" in capsys.readouterr().err


@pytest.mark.parametrize("keep", ["one row", "random only", "sources only"])
def test_degenerate_frames_still_give_a_report_that_says_so(keep, tmp_path):
    frame = study_frame(
        methods=("darts",), sources=("cifar10",), search_seeds=1, eval_seeds=1, n_random=2, protocols=1
    )
    frame = {
        "one row": frame.iloc[:1],
        "random only": frame[frame["method"] == "random"],
        "sources only": frame[frame["eval_role"] == "source"],
    }[keep]
    text = build_report_from_frame(frame, tmp_path, formats=("md",), n_boot=10).read_text()
    assert all(f"## {title}" in text for title in SECTION_TITLES)
    assert text.count("too few to conclude") >= 2


@pytest.mark.skipif(importlib.util.find_spec("nas_bench_graph") is None, reason="needs nas-bench-graph")
def test_report_of_a_run_is_titled_with_the_study_name(tmp_path, capsys):
    study = tmp_path / "study.toml"
    study.write_text(LOOKUP_STUDY)
    run_dir = tmp_path / "run-7"
    assert main(["run", str(study), "--dir", str(run_dir), "--no-report"]) == 0

    def title() -> str:
        return report_run(run_dir, formats=("md",), n_boot=10).read_text().splitlines()[0]

    assert title() == "# NASTransfer study: graph-title-check"
    resolved = run_dir / "study.resolved.json"
    resolved.write_text("{truncated")
    capsys.readouterr()
    assert main(["report", str(run_dir), "--format", "md"]) == 2
    error = capsys.readouterr().err.strip()
    assert "study.resolved.json: not valid JSON" in error and "\n" not in error
    resolved.unlink()  # a run directory without its resolved config falls back to its own name
    assert title() == "# NASTransfer study: run-7"


def test_analysis_imports_neither_study_nor_torch():
    code = (
        "import sys, nastransfer.analysis; "
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('nastransfer.study')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_report_computes_method_statistics_and_bootstraps_once(tmp_path, monkeypatch):
    from nastransfer.analysis import methods, questions, report

    calls = {"method_stats": 0, "versus_random": 0}

    def counted(name):
        original = getattr(methods, name)

        def wrapper(*args, **kwargs):
            calls[name] += 1
            return original(*args, **kwargs)

        return wrapper

    for name in calls:
        monkeypatch.setattr(report, name, counted(name))
        monkeypatch.setattr(questions, name, counted(name))
    frame = study_frame(methods=("darts", "gdas"), search_seeds=2, eval_seeds=1, n_random=3)
    build_report_from_frame(frame, tmp_path, formats=("md",), n_boot=10)
    assert calls == {"method_stats": 1, "versus_random": 1}


@pytest.mark.skipif(importlib.util.find_spec("nas_bench_graph") is None, reason="needs nas-bench-graph")
def test_a_report_that_fails_keeps_the_finished_run(tmp_path, capsys, monkeypatch):
    """A bug in the analysis at the end of a run: one line, exit 1, the results kept and reportable."""
    from nastransfer import study as study_package
    from nastransfer.analysis import report as report_module

    study = tmp_path / "study.toml"
    study.write_text(LOOKUP_STUDY)
    run_dir = tmp_path / "run"

    def broken(*args, **kwargs):
        raise ValueError("cannot handle a non-unique multi-index!")

    monkeypatch.setattr(report_module, "build_report_from_frame", broken)
    monkeypatch.setattr("nastransfer.analysis.build_report_from_frame", broken)
    capsys.readouterr()
    assert main(["run", str(study), "--dir", str(run_dir)]) == 1
    out = capsys.readouterr().out
    assert "the report failed (ValueError: cannot handle a non-unique multi-index!)" in " ".join(out.split())
    assert "non-unique" in (run_dir / "report.error.txt").read_text()
    frame = study_package.load(run_dir)
    assert len(frame) > 0
    monkeypatch.undo()
    assert main(["report", str(run_dir), "--format", "md"]) == 0
    assert main(["run", str(study), "--dir", str(run_dir)]) == 0  # nothing to run; the report is written
