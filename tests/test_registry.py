"""The one `Registry` behind every extension point: a taken name is refused, an unknown one is a
single line listing the known names, and installed plugins join by name on first lookup."""

from __future__ import annotations

import sys

import pytest

from nastransfer import data, predictors, search, spaces, tabular, train
from nastransfer.errors import ConfigError, DatasetError, NastransferError
from nastransfer.registry import Registry
from nastransfer.study.kinds import KINDS

EVERY_REGISTRY = {
    "searchers": search.SEARCHERS,
    "spaces": spaces.SPACES,
    "predictors": predictors.PREDICTORS,
    "datasets": data.DATASETS,
    "table families": tabular.TABLE_FAMILIES,
    "protocols": train.PROTOCOLS,
    "task kinds": KINDS,
}


def test_entries_by_name_and_an_unknown_name_listing_the_known_ones():
    colours: Registry[int] = Registry("colour", ConfigError, hint=", or #rrggbb")
    assert colours.add("red", 1) == 1
    colours.register("blue")(2)
    assert colours.get("red") == 1 and colours.names() == ["blue", "red"] == list(colours)
    assert "blue" in colours and "green" not in colours and 3 not in colours and len(colours) == 2
    assert colours.loaded() == [1, 2]
    with pytest.raises(ConfigError, match=r"^unknown colour 'green' \(known: blue, red, or #rrggbb\)$"):
        colours.get("green")
    with pytest.raises(ConfigError, match=r"^unknown colour None"):
        colours.get(None)
    colours.remove("red")
    assert colours.names() == ["blue"]


@pytest.mark.parametrize("kind", EVERY_REGISTRY)
def test_every_registry_refuses_a_taken_name_in_one_line_and_keeps_the_first(kind):
    registry = EVERY_REGISTRY[kind]
    name = registry.names()[0]
    first = registry.get(name)
    with pytest.raises(NastransferError, match=f"^{registry.kind} '{name}' is already registered$"):
        registry.add(name, first)
    assert registry.get(name) is first
    with pytest.raises(registry.error, match=f"^unknown {registry.kind} 'no-such-name' \\(known: "):
        registry.get("no-such-name")


def test_the_public_registration_functions_refuse_a_taken_name():
    with pytest.raises(DatasetError, match="dataset 'digits' is already registered"):
        data.register_dataset("digits", description="again", how_to_get="nowhere")(print)
    with pytest.raises(DatasetError, match="table family 'nb201' is already registered"):
        tabular.register_family("nb201", list)(print)
    with pytest.raises(ConfigError, match="search method 'darts' is already registered"):
        search.register("darts")(type("Again", (search.Searcher,), {"search": None}))
    with pytest.raises(ConfigError, match="zero-cost predictor 'synflow' is already registered"):
        predictors.register("synflow")(type("Again", (predictors.Predictor,), {"score": None}))
    assert predictors.get("synflow").__class__.__name__ != "Again"


class Shade:
    """What the plugin below names: a registry entry is whatever its `admit` makes of it."""

    value = 7


def _admit(name: str, loaded: object) -> int:
    if not isinstance(getattr(loaded, "value", None), int):
        raise ConfigError(f"colour plugin {name!r} has no integer value")
    return loaded.value


@pytest.fixture
def installed_plugins(tmp_path):
    """Three plugins of the group `test.colours`, installed as a package's `.dist-info` is."""
    info = tmp_path / "colours-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: colours\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        f"[test.colours]\nshade = {__name__}:Shade\nbroken = no_such_module_xyz:Thing\n"
        f"odd = {__name__}:_admit\n"
    )
    sys.path.insert(0, str(tmp_path))
    yield
    sys.path.remove(str(tmp_path))


def test_plugins_are_listed_unloaded_and_join_on_first_lookup(installed_plugins):
    colours: Registry[int] = Registry("colour", ConfigError, plugins="test.colours", admit=_admit)
    colours.add("red", 1)
    assert colours.names() == ["broken", "odd", "red", "shade"] and "shade" in colours
    assert colours.loaded() == [1]  # nothing imported yet
    assert colours.get("shade") == 7 and colours.loaded() == [1, 7]
    with pytest.raises(ConfigError, match="^cannot load colour plugin 'broken': No module named"):
        colours.get("broken")
    with pytest.raises(ConfigError, match="^colour plugin 'odd' has no integer value$"):
        colours.get("odd")
    assert "odd" not in colours.loaded() and colours.loaded() == [1, 7]
    with pytest.raises(TypeError):
        Registry("colour", ConfigError, plugins="test.colours")  # no way to admit them
