"""`nastransfer genotype ...` through the real entry point: output, files, and exit 2 on bad input."""

import pytest

from nastransfer.cli.main import main
from nastransfer.spaces import darts, nb201

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"


def test_show_prints_key_text_and_edges(capsys):
    assert main(["genotype", "show", "DARTS_V2"]) == 0
    out = capsys.readouterr().out
    assert darts.PUBLISHED["DARTS_V2"].key in out and "dil_conv_3x3" in out and "reduce cell" in out
    assert main(["genotype", "show", ARCH]) == 0
    assert "space: nb201" in capsys.readouterr().out


def test_show_reads_a_file(tmp_path, capsys):
    path = tmp_path / "cell.txt"
    path.write_text(f"MY_CELL = {darts.PUBLISHED['PDARTS']}\n")
    assert main(["genotype", "show", str(path)]) == 0
    assert darts.PUBLISHED["PDARTS"].key in capsys.readouterr().out


def test_params_of_a_small_network(capsys):
    args = [
        "genotype",
        "params",
        "DARTS_V2",
        "--C",
        "4",
        "--layers",
        "3",
        "--classes",
        "5",
        "--image-size",
        "16",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "params: " in out and "multiply-adds" in out
    assert main(["genotype", "params", ARCH, "--C", "4", "--layers", "1", "--in-channels", "1"]) == 0


def test_sample_prints_the_seeded_draw(capsys):
    assert main(["genotype", "sample", "--space", "nb201", "--seed", "4"]) == 0
    assert capsys.readouterr().out.strip() == str(nb201.sample(4))
    assert main(["genotype", "sample", "--seed", "4"]) == 0
    assert capsys.readouterr().out.strip() == str(darts.sample(4))


def test_plot_writes_an_image(tmp_path):
    for spec, name in (("PC_DARTS_cifar", "darts.png"), (ARCH, "nb201.png")):
        out = tmp_path / name
        assert main(["genotype", "plot", spec, "-o", str(out)]) == 0
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["genotype", "show", "Genotype(normal=[('sep_conv_3x3', 0)]"], "does not parse"),
        (["genotype", "show", "DARTS_V9"], "'DARTS_V9' is not a published cell"),
        (["genotype", "params", "|none~0|+|none~0|none~1|"], "needs 3 '+'-separated node groups"),
        (["genotype", "sample", "--space", "nb101"], "unknown search space 'nb101'"),
        (["genotype", "params", "DARTS_V2", "--stem", "mobile"], "--stem must be cifar or imagenet"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
