"""How `pytest -n N --dist loadgroup` shares the suite between its worker processes.

A test file that defines a module-scoped fixture (a finished study run, a Ray cluster, a built
report) is one unit of work, so the fixture, the expensive part of that file, is built once and not
once per worker. Every other test is a unit of its own, and those fill the end of the run, so the
workers finish close together.

xdist's own `xdist_group` marks cannot do this under pytest 9.2, whose node ids xdist can no longer
rename; the controller, which collects nothing, reads the grouped files' fixtures from their source.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from xdist.scheduler import LoadScopeScheduling

SHARED_SCOPES = {"module", "class", "package"}


def _fixture_scope(decorator: ast.expr) -> str | None:
    """The scope named in `@pytest.fixture(scope="...")`, or None for any other decorator."""
    if not isinstance(decorator, ast.Call):
        return None
    name = decorator.func
    if not (isinstance(name, ast.Attribute) and name.attr == "fixture"):
        return None
    for keyword in decorator.keywords:
        if keyword.arg == "scope" and isinstance(keyword.value, ast.Constant):
            return keyword.value.value
    return None


@cache
def shares_fixtures(path: Path) -> bool:
    """Whether the test file defines a fixture that outlives one test."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return any(
        _fixture_scope(decorator) in SHARED_SCOPES
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        for decorator in node.decorator_list
    )


class FixtureFileScheduling(LoadScopeScheduling):
    """loadscope with a file as the scope where the file shares fixtures, else the test itself."""

    def _split_scope(self, nodeid: str) -> str:
        file = nodeid.split("::", 1)[0]
        return file if shares_fixtures(self.config.rootpath / file) else nodeid
