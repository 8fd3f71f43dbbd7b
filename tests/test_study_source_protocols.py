"""`[evaluate] source_protocols` trains every cell on its source under several protocols, and
`[random] source_cells` limits which random cells are trained on the sources: the planner's tasks,
their settings, and the keys' refusals (one line naming the key)."""

import pytest

from nastransfer.errors import ConfigError
from nastransfer.study import parse_study, plan_study


def _study(tiny_study, evaluate: str = "", random: str = ""):
    text = tiny_study("protocols")
    text = text.replace("[evaluate]\n", "[evaluate]\n" + evaluate)
    text = text.replace("[random]\nn = 2\n", "[random]\nn = 2\n" + random)
    return text


def _load(text):
    import tomllib

    return parse_study(tomllib.loads(text), where="study.toml", data=False)


def _source_evaluations(tasks):
    return [t.spec for t in tasks if t.kind == "evaluate" and t.spec["setting"]["role"] == "source"]


def test_each_cell_is_trained_under_every_source_protocol(tiny_study):
    one = plan_study(_load(_study(tiny_study)))
    text = _study(
        tiny_study,
        evaluate='source_protocols = ["cpu-mini", "enhanced-cifar"]\n'
        "source_protocol_overrides = { enhanced-cifar = { epochs = 2 } }\n",
    )
    two = plan_study(_load(text))
    single, double = _source_evaluations(one), _source_evaluations(two)
    assert len(double) == 2 * len(single)
    protocols = {s["setting"]["protocol"] for s in double}
    assert protocols == {"cpu-mini", "enhanced-cifar"}
    enhanced = [s["setting"]["overrides"] for s in double if s["setting"]["protocol"] == "enhanced-cifar"]
    assert all(o["epochs"] == 2 and o["channels"] == 4 for o in enhanced)  # merged over source_overrides
    base = [s["setting"] for s in double if s["setting"]["protocol"] == "cpu-mini"]
    assert base == [s["setting"] for s in single]  # the base protocol's tasks keep their specs


def test_source_cells_limits_the_random_cells_trained_on_sources(tiny_study):
    tasks = plan_study(_load(_study(tiny_study, random="source_cells = 1\n")))
    random_on_source = [s for s in _source_evaluations(tasks) if s["origin"]["method"] == "random"]
    assert {s["origin"]["search_seed"] for s in random_on_source} == {0}
    on_target = [
        t.spec for t in tasks if t.kind == "evaluate" and t.spec["setting"]["role"] == "target"
        and t.spec["origin"]["method"] == "random"
    ]
    assert {s["origin"]["search_seed"] for s in on_target} == {0, 1}


@pytest.mark.parametrize(
    ("evaluate", "random", "key", "words"),
    [
        ('source_protocol = "cpu-mini"\nsource_protocols = ["cpu-mini"]\n', "", "evaluate", "not both"),
        ('source_protocols = ["cpu-mini", "cpu-mini"]\n', "", "evaluate", "twice"),
        ("source_protocols = []\n", "", "evaluate.source_protocols", "at least 1"),
        ('source_protocols = ["nope"]\n', "", "evaluate", "nope"),
        (
            'source_protocols = ["cpu-mini"]\n'
            "source_protocol_overrides = { enhanced-cifar = { epochs = 2 } }\n",
            "",
            "evaluate.source_protocol_overrides.enhanced-cifar",
            "not a source protocol",
        ),
        ("", "source_cells = 3\n", "random", "more than n"),
        ("", "source_cells = -1\n", "random.source_cells", "greater than or equal to 0"),
    ],
)
def test_bad_keys_are_one_line(tiny_study, evaluate, random, key, words):
    with pytest.raises(ConfigError) as caught:
        _load(_study(tiny_study, evaluate=evaluate, random=random))
    message = str(caught.value)
    assert "\n" not in message and key in message and words in message
