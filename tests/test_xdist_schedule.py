"""The parallel suite's units of work: a file that shares a module-scoped fixture is one unit, any other
test is a unit of its own (tests/xdist_schedule.py)."""

from pathlib import Path
from types import SimpleNamespace

from xdist_schedule import FixtureFileScheduling, shares_fixtures

TESTS = Path(__file__).parent

SHARED = """
import pytest

@pytest.fixture(scope="module")
def run():
    return 1

def test_a(run):
    pass
"""

PER_TEST = """
import pytest

@pytest.fixture
def run():
    return 1

@pytest.fixture(scope="session")
def data():
    return 2

@pytest.mark.parametrize("x", [1, 2])
def test_a(run, x):
    pass
"""


def _split(root: Path, nodeid: str) -> str:
    scheduler = SimpleNamespace(config=SimpleNamespace(rootpath=root))
    return FixtureFileScheduling._split_scope(scheduler, nodeid)


def test_a_file_sharing_a_module_fixture_is_one_unit_and_other_tests_are_their_own(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_shared.py").write_text(SHARED)
    (tmp_path / "tests" / "test_per_test.py").write_text(PER_TEST)
    assert _split(tmp_path, "tests/test_shared.py::test_a") == "tests/test_shared.py"
    assert _split(tmp_path, "tests/test_shared.py::Group::test_b[x::y]") == "tests/test_shared.py"
    assert _split(tmp_path, "tests/test_per_test.py::test_a[1]") == "tests/test_per_test.py::test_a[1]"


def test_the_suites_expensive_module_fixtures_are_found():
    for name in ("test_study_run.py", "test_study_cluster.py", "test_study_ddp.py", "test_search_compile.py"):
        assert shares_fixtures(TESTS / name), name
    assert not shares_fixtures(TESTS / "test_bad_input.py")
