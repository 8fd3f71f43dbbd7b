"""`nastransfer search` end to end, and bad input (method, budget, source) as one line and exit 2."""

from __future__ import annotations

import json

import pytest

from nastransfer import search
from nastransfer.cli.main import main
from nastransfer.errors import ConfigError
from nastransfer.search import Budget, Searcher

TINY = ["--epochs", "1", "--channels", "4", "--layers", "3", "--batch-size", "16", "--image-size", "8"]


def test_cli_search_on_a_proxy_writes_the_result(tmp_path, capsys):
    out = tmp_path / "result.json"
    code = main(
        [
            "search",
            "--space",
            "darts",
            "--method",
            "gdas",
            "--source",
            "fashion-mnist",
            "--proxy-classes",
            "4",
            "--proxy-per-class",
            "20",
            "--seed",
            "1",
            *TINY,
            "-o",
            str(out),
        ]
    )
    assert code == 0
    result = json.loads(out.read_text())
    assert result["genotype"].startswith("Genotype(") and result["method"] == "gdas"
    assert result["budget"]["epochs"] == 1 and result["budget"]["batch_size"] == 16
    assert result["source"]["proxy"] and len(result["history"]) == 1
    assert "genotype" in result["history"][0] and result["cost"]["wall_s"] > 0
    assert capsys.readouterr().out.strip() == result["genotype"]
    assert search.SearchResult.from_dict(result).genotype == search.SearchResult.from_dict(result).genotype


def test_cli_compile_flag_reaches_the_searcher(tmp_path, monkeypatch):
    from nastransfer.search import gradient

    monkeypatch.setattr(gradient, "compile_net", lambda net: net)  # the choice, not the compile
    for flag, compiled in (("true", True), ("false", False)):
        out = tmp_path / f"{flag}.json"
        argv = ["search", "--method", "darts", "--source", "digits", "--proxy-per-class", "8", *TINY]
        argv += ["--compile", flag, "-o", str(out)]
        assert main(argv) == 0
        assert json.loads(out.read_text())["extra"]["compiled"] is compiled


def test_cli_nb201_random(tmp_path):
    out = tmp_path / "r.json"
    assert (
        main(
            [
                "search",
                "--space",
                "nb201",
                "--method",
                "random",
                "--source",
                "digits",
                "--seed",
                "2",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert json.loads(out.read_text())["genotype"].startswith("|")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "nosuch"], "unknown search method 'nosuch'"),
        (["--method", "darts", "--epochs", "0"], "epochs must be >= 1"),
        (["--method", "darts", "--layers", "2"], "layers 2 < 3"),
        (["--method", "pcdarts", "--channels", "6", "--warmup-epochs", "0"], "not divisible by K=4"),
        (["--method", "darts", "--batch-size", "64", "--proxy-per-class", "5"], "fewer than one batch of 64"),
        (["--method", "darts", "--space", "nasnet"], "--space 'nasnet'"),
        (["--method", "pcdarts"], "warmup_epochs 15 leaves no architecture epochs out of 1"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(args, message, tmp_path, capsys):
    base = ["search", "--source", "fashion-mnist", "-o", str(tmp_path / "x.json")]
    overrides = {"--epochs": "1", "--channels": "4", "--layers": "3", "--image-size": "8"}
    for flag, value in overrides.items():
        if flag not in args and args[1] != "nosuch":
            args = [*args, flag, value]
    assert main([*base, *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err.replace("\n", " ") and len(err.splitlines()) <= 2, err


def test_budget_validation_and_published_defaults():
    darts = search.published_budget("darts")
    assert (darts.epochs, darts.channels, darts.layers, darts.batch_size) == (50, 16, 8, 64)
    pcdarts = search.published_budget("pcdarts")
    assert pcdarts.batch_size == 256 and pcdarts.warmup_epochs == 15
    assert search.published_budget("gdas").epochs == 250
    assert Budget.from_dict(darts.to_dict()) == darts
    for bad in ({"channels": 0}, {"data_fraction": 1.5}, {"batch_size": 2.5}, {"image_size": 2}):
        with pytest.raises(ConfigError):
            darts.replace(**bad)
    with pytest.raises(ConfigError, match="unknown budget field"):
        darts.replace(cells=3)
    with pytest.raises(ConfigError, match="unknown search method 'enas'"):
        search.published_budget("enas")


class EchoSearcher(Searcher):
    """A plugin-style searcher for the registry test (returns a fixed published cell)."""

    def __init__(self, cell: str = "DARTS_V2") -> None:
        self.cell = cell

    def search(self, space, data, budget, seed, workdir, progress=None):
        raise NotImplementedError


def test_registry_names_get_register_and_module_paths():
    assert {"darts", "darts2", "pcdarts", "gdas", "pdarts", "rsws", "random"} <= set(search.names())
    assert search.get("darts2").order == 2 and search.get("darts", order=2).order == 2
    assert search.get("darts").name == "darts"
    loaded = search.get(f"{__name__}:EchoSearcher", cell="PDARTS")
    assert isinstance(loaded, EchoSearcher) and loaded.cell == "PDARTS"

    @search.register("echo-test")
    class Registered(EchoSearcher):
        pass

    assert isinstance(search.get("echo-test"), Registered) and "echo-test" in search.names()
    with pytest.raises(ConfigError, match="unknown option"):
        search.get("darts", learning_rate=1.0)
    with pytest.raises(ConfigError, match="cannot load searcher"):
        search.get("no_such_module_xyz:Thing")


def test_budgets_live_on_the_searcher_classes():
    plugin = f"{__name__}:EchoSearcher"
    rsws = search.published_budget("rsws")
    assert search.get("rsws").paper_budget == rsws and rsws.n_samples == 1000
    assert search.published_budget("darts2") == search.published_budget("darts")
    assert search.published_budget("random") == Budget.queries(1)
    with pytest.raises(ConfigError, match="publishes no budget: give epochs, channels, layers, batch_size"):
        search.published_budget(plugin)
    with pytest.raises(ConfigError, match="publishes no budget: give layers"):
        search.method_budget(plugin, {"epochs": 1, "channels": 4, "batch_size": 8})
    whole = {"epochs": 1, "channels": 4, "layers": 3, "batch_size": 8}
    assert search.method_budget(plugin, whole) == Budget(**whole)
    # a field a config does not give is the method's published one, not a default
    assert search.method_budget("pcdarts", {"epochs": 20}).warmup_epochs == 15


def test_registry_names_a_searcher_before_its_constructor_can_fail():
    with pytest.raises(ConfigError, match="^order: darts2 takes 1 or 2"):
        search.get("darts2", order=3)
    EchoSearcher().check("darts", search.published_budget("darts"))  # the interface accepts any budget
    with pytest.raises(ConfigError, match="is not a searcher: expected a subclass of"):
        search.get("builtins:dict")
