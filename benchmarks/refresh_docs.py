"""Run the benchmark scripts and write what each prints into docs/benchmarks.md, stamped once.

Each script has a section in docs/benchmarks.md whose measured part sits between the lines
`<!-- bench_x.py: measured -->` and `<!-- bench_x.py: end -->`. This runs the script as
`make bench` always has (its defaults, this interpreter), shows its output as it comes, and replaces
that part with the output under one stamp: date, commit, machine and command. The prose around the
markers says what is measured and how, and holds no figures, so a refresh cannot leave it stale. A
script without a section gets one at the end of the page; a script that fails keeps its previous
figures, and the exit code is 1. The page is rewritten atomically after each script.

    .venv/bin/python benchmarks/refresh_docs.py                 # every bench_*.py (`make bench`)
    .venv/bin/python benchmarks/refresh_docs.py bench_cli.py    # only these
"""

from __future__ import annotations

import argparse
import ast
import datetime
import os
import re
import subprocess
import sys
from pathlib import Path

from nastransfer.atomic import atomic_write_text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PAGE = ROOT / "docs" / "benchmarks.md"


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def stamp(script: Path) -> str:
    """When, on which code and on which machine the figures below it were measured."""
    import torch

    from nastransfer.runtime import cpu_model

    commit = _git("rev-parse", "--short", "HEAD")
    if _git("status", "--porcelain", "--untracked-files=no"):
        commit += " with uncommitted changes"
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    load = os.getloadavg()[0]  # other work on the machine skews wall times: say how much there was
    return (
        f"Measured {date}, commit {commit}, on {cpu_model()} ({os.cpu_count()} cores, {gpu}; load "
        f"{load:.1f} at the start): `python benchmarks/{script.name}`."
    )


def measure(script: Path) -> str | None:
    """The script's standard output, echoed as it runs; None if it failed."""
    # Rich tables wrap at the terminal's width; a page has room for wide ones.
    env = {**os.environ, "COLUMNS": "160"}
    with subprocess.Popen(
        [sys.executable, str(script)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    ) as proc:
        lines = []
        for line in proc.stdout:
            sys.stdout.write(line)
            lines.append(line)
    return "".join(lines).strip("\n") if proc.returncode == 0 else None


def block(script: Path, header: str, output: str) -> str:
    name = script.name
    return f"<!-- {name}: measured -->\n{header}\n\n```text\n{output}\n```\n<!-- {name}: end -->"


def put(page: str, script: Path, new_block: str) -> str:
    """The page with the script's measured part replaced, or a new section for it at the end."""
    name = re.escape(script.name)
    pattern = re.compile(rf"<!-- {name}: measured -->.*?<!-- {name}: end -->", re.S)
    if pattern.search(page):
        return pattern.sub(lambda _: new_block, page, count=1)
    summary = (ast.get_docstring(ast.parse(script.read_text())) or "").split("\n", 1)[0]
    return f"{page.rstrip()}\n\n## `{script.name}`\n\n{summary}\n\n{new_block}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scripts", nargs="*", help="bench_*.py names (default: all of them)")
    args = parser.parse_args()
    scripts = [HERE / name for name in args.scripts] or sorted(HERE.glob("bench_*.py"))
    missing = [s.name for s in scripts if not s.is_file() or not s.name.startswith("bench_")]
    if missing:
        sys.exit(f"refresh_docs: no benchmark script {', '.join(missing)} in {HERE}")
    failed = []
    for script in scripts:
        print(f"==> {script.relative_to(ROOT)}", flush=True)
        header = stamp(script)  # before the run: the code measured is the code at its start
        output = measure(script)
        if output is None:
            failed.append(script.name)
            continue
        atomic_write_text(PAGE, put(PAGE.read_text(), script, block(script, header, output)))
    if failed:
        sys.exit(f"refresh_docs: {', '.join(failed)} failed; their figures in {PAGE.name} are unchanged")
    print(f"==> {PAGE.relative_to(ROOT)} refreshed")


if __name__ == "__main__":
    main()
