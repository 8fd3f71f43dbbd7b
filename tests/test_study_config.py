"""Bad study configs: one clear line naming file and key, exit code 2, and no run directory left behind."""

from pathlib import Path

import pytest

from nastransfer.cli.main import main
from nastransfer.errors import ConfigError
from nastransfer.study import load_config, load_study, plan_study

GOOD = """
name = "tiny"
space = "darts"
seeds = [0, 1]

[[sources]]
name = "digits"
dataset = "digits"

[[sources]]
name = "fm-proxy"
proxy_of = "fm"
classes = 3
per_class = 20
resolution = 8

[[methods]]
name = "darts"

[[methods]]
name = "gdas"
budget = { epochs = 2 }

[budget]
epochs = 1
channels = 4
layers = 3
batch_size = 16

[random]
n = 3

[[targets]]
name = "fm"
dataset = "fashion-mnist"
protocols = ["cpu-mini"]
overrides = { epochs = 1, channels = 4 }
eval_seeds = [0, 1]
"""


def _write(tmp_path, text):
    path = tmp_path / "study.toml"
    path.write_text(text)
    return path


def test_good_config_plans_the_grid(tmp_path):
    tasks = plan_study(load_study(_write(tmp_path, GOOD)))
    kinds = [t.kind for t in tasks]
    assert kinds.count("search") == 2 * 2 * 2  # sources x methods x seeds
    assert kinds.count("sample") == 3
    # found cells: own source (1) + target (2 eval seeds); random cells: both sources + target
    assert kinds.count("evaluate") == 8 * (1 + 2) + 3 * (2 + 2)
    assert len({t.key for t in tasks}) == len(tasks)
    assert [t.key for t in plan_study(load_study(_write(tmp_path, GOOD)))] == [t.key for t in tasks]
    gdas = next(t for t in tasks if t.kind == "search" and t.spec["method"] == "gdas")
    assert gdas.spec["budget"]["epochs"] == 2 and gdas.spec["budget"]["channels"] == 4


BAD = [
    ("unknown method", GOOD.replace('name = "gdas"', 'name = "nosuch"'), "methods[1].name"),
    (
        "missing dataset",
        GOOD.replace('dataset = "fashion-mnist"', 'dataset = "fashion-mnist"\nroot = "/nonexistent/fm"'),
        "targets[0].root",
    ),
    ("negative budget", GOOD.replace("epochs = 1\n", "epochs = -1\n"), "budget.epochs"),
    (
        "negative method budget",
        GOOD.replace("budget = { epochs = 2 }", "budget = { epochs = -2 }"),
        "methods[1].budget.epochs",
    ),
    ("budget a method cannot run", GOOD.replace("layers = 3", "layers = 2"), "methods[0].budget"),
    ("wrong type", GOOD.replace("n = 3", 'n = "three"'), "random.n"),
    ("unknown key", GOOD.replace("[random]", "[random]\nsize = 2"), "random.size"),
    (
        "unknown protocol",
        GOOD.replace('protocols = ["cpu-mini"]', 'protocols = ["cpu-mini", "fast"]'),
        "targets[0].protocols[1]",
    ),
    (
        "bad override",
        GOOD.replace("overrides = { epochs = 1", "overrides = { epoch = 1"),
        "targets[0].overrides.epoch",
    ),
    ("bad override value", GOOD.replace("channels = 4 }", "channels = 0 }"), "targets[0].protocols[0]"),
    ("proxy of nothing", GOOD.replace('proxy_of = "fm"', 'proxy_of = "imagenet"'), "sources[1].proxy_of"),
    (
        "two origins",
        GOOD.replace('dataset = "digits"', 'dataset = "digits"\ntable = "nb201:cifar10"'),
        "sources[0]",
    ),
    ("toml syntax", GOOD.replace("seeds = [0, 1]", "seeds = [0, 1] 2"), "line 4"),
]


@pytest.mark.parametrize(("case", "text", "where"), BAD, ids=[case for case, _, _ in BAD])
def test_bad_config_is_one_line_exit_2_and_no_run_dir(tmp_path, capsys, case, text, where):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_study(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and where in message, message
    if case != "toml syntax":  # the location is the error's field, not found in its words
        assert caught.value.field == where and caught.value.where == str(path)
    run_dir = tmp_path / "run"
    assert main(["run", str(path), "--dir", str(run_dir)]) == 2
    assert not run_dir.exists()
    err = capsys.readouterr().err
    assert where in err.replace("\n", "") and "Traceback" not in err


def test_missing_study_file_is_exit_2(tmp_path):
    assert main(["run", str(tmp_path / "none.toml"), "--dir", str(tmp_path / "run")]) == 2
    assert not (tmp_path / "run").exists()


CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.toml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_shipped_configs_have_a_valid_shape(path):
    config = load_config(path, check_references=False)
    assert config.sources and (config.methods or config.random.n or config.fidelity)


def test_quickstart_validates_fully_and_plans_its_grid():
    study = load_study(Path(__file__).parent.parent / "configs" / "quickstart.toml")
    kinds = [t.kind for t in plan_study(study)]
    assert len(study.sources) >= 2 and len(study.methods) >= 3 and study.config.random.n >= 4
    assert (kinds.count("search"), kinds.count("sample"), kinds.count("evaluate")) == (6, 4, 24)


def test_a_method_that_publishes_no_budget_runs_with_a_whole_one(tmp_path):
    plugin = GOOD.replace('name = "gdas"\nbudget = { epochs = 2 }', 'name = "test_search_cli:EchoSearcher"')
    study = load_study(_write(tmp_path, plugin))  # [budget] names all four required fields
    assert {t.spec["budget"]["layers"] for t in plan_study(study) if t.kind == "search"} == {3}
    with pytest.raises(ConfigError, match=r"budget: search method .* publishes no budget: give layers$"):
        load_study(_write(tmp_path, plugin.replace("layers = 3\n", "")))


def test_a_config_error_carries_its_place_and_keeps_its_text_through_pickle():
    import pickle

    raised = ConfigError("budget epochs must be >= 1, got -1", field="epochs")  # as `Budget` raises it
    placed = raised.at("s.toml", "methods[1].budget")
    assert (placed.where, placed.field) == ("s.toml", "methods[1].budget.epochs")
    assert str(placed) == "s.toml: methods[1].budget.epochs: budget epochs must be >= 1, got -1"
    assert placed.at("other.toml", "budget") is placed  # a placed error keeps its place
    assert str(pickle.loads(pickle.dumps(placed))) == str(placed)  # workers send errors back pickled
