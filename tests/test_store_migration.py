"""Run directories written at store schema 3 (tests/data/schema3-runs, made by that release) open
with this one: `run` resumes them with nothing to redo, migrating the store to schema 4 (a fidelity
task's JSON scores move from `searches` to `proxy_scores`), and `report` and `export` give the rows
that release exported. A read-only `export` of an unmigrated directory migrates a copy in memory and
leaves the file as it was."""

import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from nastransfer.cli.main import main
from nastransfer.study import SCHEMA_VERSION

RUNS = Path(__file__).parent / "data" / "schema3-runs"


def _copy(name: str, tmp_path: Path) -> Path:
    run = tmp_path / name
    shutil.copytree(RUNS / name, run)
    return run


def _query(run: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(run / "study.sqlite") as db:
        return db.execute(sql).fetchall()


def _same_as_exported(run: Path, out: Path) -> None:
    expected = pd.read_csv(RUNS / run.name / "export.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(pd.read_csv(out, keep_default_na=False), expected)


def test_the_fixtures_are_schema_3():
    for name in ("search", "fidelity"):
        assert _query(RUNS / name, "SELECT version FROM schema_version") == [(3,)]
    assert _query(RUNS / "fidelity", "SELECT COUNT(*) FROM searches WHERE cell = ''") == [(7,)]


@pytest.mark.parametrize("name", ["search", "fidelity"])
def test_run_resumes_migrates_reports_and_exports_every_row(tmp_path, name):
    run = _copy(name, tmp_path)
    finished = _query(run, "SELECT key, finished FROM tasks ORDER BY key")
    assert main(["run", str(run / "study.toml"), "--dir", str(run), "--no-report"]) == 0
    assert _query(run, "SELECT key, finished FROM tasks ORDER BY key") == finished  # nothing redone
    assert _query(run, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
    assert _query(run, "SELECT COUNT(*) FROM searches WHERE cell = ''") == [(0,)]
    scored = 0 if name == "search" else 5 * 2 + 3  # two predictors on 5 cells, a training on 3
    assert _query(run, "SELECT COUNT(*) FROM proxy_scores") == [(scored,)]
    assert main(["report", str(run)]) == 0
    assert (run / "report" / "report.md").is_file()
    assert main(["export", str(run), "--to", str(tmp_path / "out.csv")]) == 0
    _same_as_exported(run, tmp_path / "out.csv")


def test_read_only_export_of_schema_3_leaves_the_store_as_it_was(tmp_path):
    run = _copy("fidelity", tmp_path)
    before = (run / "study.sqlite").read_bytes()
    assert main(["export", str(run), "--to", str(tmp_path / "out.csv")]) == 0
    _same_as_exported(run, tmp_path / "out.csv")
    assert (run / "study.sqlite").read_bytes() == before
