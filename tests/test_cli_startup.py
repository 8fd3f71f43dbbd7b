"""The command line starts light: `version` and every `--help` run without torch, pandas, matplotlib or Ray.

Checked in a fresh interpreter (this test process has torch loaded already); no timing is asserted,
the heavy modules' absence is what keeps start-up well under half a second.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import nastransfer

HEAVY = ("torch", "numpy", "pandas", "matplotlib", "ray", "scipy", "sklearn")
PROBE = """
import sys
from nastransfer.cli.main import main
code = main(sys.argv[1:])
print("LOADED", *sorted(m for m in {heavy!r} if m in sys.modules))
sys.exit(code)
"""


def _loaded_after(args: list[str]) -> list[str]:
    src = str(Path(nastransfer.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        capture_output=True, text=True, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr
    line = next(row for row in done.stdout.splitlines() if row.startswith("LOADED"))
    return line.split()[1:]


@pytest.mark.parametrize(
    "args",
    [
        ["version"],
        ["--help"],
        ["run", "--help"],
        ["train", "--help"],
        ["search", "--help"],
        ["datasets", "--help"],
        ["genotype", "--help"],
        ["tables", "--help"],
        ["report", "--help"],
    ],
)
def test_cli_imports_no_heavy_package(args):
    assert _loaded_after(args) == []


def test_no_task_imports_the_compiler_unless_it_compiles():
    """torch._dynamo costs ~2 s of a process's start-up: the packages a task worker or `plan` imports
    leave it out (`nets.compiling.eager`), and `compile_net` still runs the marked parts eagerly."""
    probe = (
        "import sys\n"
        "import nastransfer.nets, nastransfer.search, nastransfer.train, nastransfer.study.cost.plan\n"
        "assert 'torch._dynamo' not in sys.modules, 'imported torch._dynamo'\n"
        "from nastransfer.nets import compile_net\n"
        "from nastransfer.nets.supernets import NB201Supernet, arch, base\n"
        "plain = arch.gumbel_hard\n"
        "compile_net(NB201Supernet(4, 1, 10, 1), backend='eager')\n"
        "assert arch.gumbel_hard is not plain and base.Supernet._path_weights._torchdynamo_disable\n"
    )
    src = str(Path(nastransfer.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
