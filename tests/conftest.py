"""Shared test set-up: one torch thread per test process, so parallel suites do not oversubscribe, and
an empty measurement cache."""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("OMP_NUM_THREADS", "1")
# Per-machine measurements (plan step timings, compile choices) go to a fresh folder for each test
# session, subprocesses included: a test must not pass on what an older version of the code left in
# ~/.cache/nastransfer.
os.environ["NASTRANSFER_CACHE"] = tempfile.mkdtemp(prefix="nastransfer-test-cache-")
atexit.register(shutil.rmtree, os.environ["NASTRANSFER_CACHE"], ignore_errors=True)

import torch  # noqa: E402

torch.set_num_threads(1)


import pytest  # noqa: E402

TINY_STUDY = """
name = "{name}"
space = "darts"

[[sources]]
name = "digits"
dataset = "digits"

[[sources]]
name = "mnist-proxy"
proxy_of = "mnist"
classes = 3
per_class = 60
resolution = 8

[[methods]]
name = "gdas"
{methods}
[budget]
epochs = {search_epochs}
channels = 4
layers = 3
batch_size = 16
data_fraction = 0.5

[random]
n = 2

[[targets]]
name = "mnist"
dataset = "mnist5k"
protocols = ["cpu-mini"]
overrides = {{ epochs = 2, channels = 4, layers = 3, batch_size = 32, image_size = 8, data_fraction = 0.15 }}

[evaluate]
source_overrides = {{ epochs = {source_epochs}, channels = 4, layers = 3, batch_size = 32, image_size = 8 }}

[executor]
workers = 2
threads_per_worker = 1
"""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under `--dist loadgroup`, a file that shares a module-scoped fixture runs on one worker (see
    xdist_schedule.py); other modes are xdist's own."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist_schedule import FixtureFileScheduling

    return FixtureFileScheduling(config, log)


@pytest.fixture(scope="session")
def tiny_study():
    """The tiny DARTS study the plan and run tests share (two sources, GDAS, a target, 2 random
    cells), as text: `tiny_study(name, methods, search_epochs, source_epochs)`, `methods` being
    more `[[methods]]` tables."""

    def text(name: str, methods: str = "", search_epochs: int = 1, source_epochs: int = 1) -> str:
        return TINY_STUDY.format(
            name=name, methods=methods, search_epochs=search_epochs, source_epochs=source_epochs
        )

    return text


@pytest.fixture
def float64_default():
    """Tiny nets in float64 for exact comparisons; restored so other tests see float32."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)
