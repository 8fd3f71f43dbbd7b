"""`nastransfer fidelity`: the JSON objects per (proxy, source), the table and sentence, bad input exit 2."""

import importlib.util
import json

import pytest

from nastransfer.cli.main import main

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("analognasbench") is None, reason="needs analog-nasbench (nb201:cifar10)"
)
BASE = ["fidelity", "--space", "nb201", "--target", "nb201:cifar10", "--cells", "6", "--n-boot", "20"]


def test_json_has_one_object_per_proxy_and_source(capsys):
    argv = [*BASE, "--proxy", "params", "--proxy", "naswot", "--source", "digits", "--batch-size", "8"]
    argv.append("--json")
    assert main(argv) == 0
    records = json.loads(capsys.readouterr().out)
    assert [(r["proxy"], r["source"]) for r in records] == [("params", "digits"), ("naswot", "digits")]
    for r in records:
        assert r["cells"] == 6 and len(r["kendall_ci"]) == 2 and len(r["spearman_ci"]) == 2
        assert -1 <= r["kendall"] <= 1 and r["cost_s"] > 0
        assert set(r["topk_overlap"]) == {"5%", "10%"}


def test_same_seed_same_scores_and_a_table_with_a_sentence(capsys):
    argv = [*BASE, "--proxy", "params", "--json"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(argv) == 0
    again = json.loads(capsys.readouterr().out)
    assert [r["kendall"] for r in first] == [r["kendall"] for r in again]
    assert first[0]["kendall_ci"] == again[0]["kendall_ci"]
    assert main([*BASE, "--proxy", "params", "--proxy", "flops"]) == 0
    out = capsys.readouterr().out
    assert "Kendall tau" in out and "Use " in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--proxy", "nosuch"], "unknown zero-cost predictor 'nosuch'"),
        (["--proxy", "snip"], "snip needs a source dataset"),
        (["--proxy", "params", "--cells", "2"], "at least 3 cells"),
        (["--proxy", "params", "--space", "darts"], "holds nb201 cells, not darts cells"),
        (["--proxy", "naswot", "--source", "nosuch"], "nosuch"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, extra, message):
    assert main([*BASE, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
