"""The training loop on real data: it learns, logs, stores its result, and survives bad checkpoints."""

import json
import os

import pytest

from nastransfer.errors import CheckpointError, ConfigError, GenotypeError
from nastransfer.nets import count_params
from nastransfer.runtime import CheckpointDir, load_checkpoint, save_checkpoint
from nastransfer.spaces import parse_any
from nastransfer.train import EvalResult, TrainEvaluator, build_model, get_protocol, load_genotype

NB201_ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"


def tiny(**overrides):
    """A seconds-long protocol on scikit-learn's 8x8 digits."""
    settings = {"epochs": 2, "batch_size": 32, "channels": 4, "layers": 3, "lr": 0.1, "data_fraction": 0.5,
                "eval_batch_size": 128, "crop_padding": 1, "channels_last": False}
    return get_protocol("cpu-mini", **{**settings, **overrides})


def without_time(curve):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in curve]


def evaluate(workdir, genotype="DARTS_V2", **overrides):
    return TrainEvaluator(show_progress=False).evaluate(genotype, "digits", tiny(**overrides), 0, workdir)


def test_training_learns_and_records_curve_log_and_result(tmp_path):
    result = evaluate(tmp_path, epochs=4, channels=8)
    assert result.top1 > 60.0, result.curve  # 10 classes: chance is 10 %
    assert result.top5 >= result.top1
    assert [row["epoch"] for row in result.curve] == [1, 2, 3, 4]
    assert result.curve[-1]["train_loss"] < result.curve[0]["train_loss"]
    assert result.curve[1]["lr"] < result.curve[0]["lr"]
    logged = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert logged == result.curve
    model = build_model(parse_any("DARTS_V2"), tiny(channels=8), num_classes=10, in_channels=1)
    assert result.params == count_params(model) and result.flops > 0
    assert result.cost is not None and result.cost.wall_s > 0
    stored = EvalResult.from_dict(json.loads((tmp_path / "result.json").read_text()))
    assert stored == result == EvalResult.from_dict(result.to_dict())
    assert evaluate(tmp_path, epochs=4, channels=8) == result  # finished workdir: the stored result


def test_nb201_cells_train_with_the_mapped_depth(tmp_path):
    result = evaluate(tmp_path, genotype=NB201_ARCH, epochs=1, layers=5)
    model = build_model(parse_any(NB201_ARCH), tiny(layers=5), num_classes=10, in_channels=1)
    assert result.params == count_params(model)
    assert 0.0 <= result.top1 <= 100.0 and len(result.curve) == 1


def test_a_workdir_of_another_run_is_refused(tmp_path):
    evaluate(tmp_path, epochs=1)
    with pytest.raises(ConfigError, match="different run"):
        evaluate(tmp_path, epochs=1, lr=0.05)
    (tmp_path / "result.json").unlink()
    with pytest.raises(ConfigError, match="different run"):
        evaluate(tmp_path, epochs=1, lr=0.05)


def test_corrupt_newest_checkpoint_is_reported_and_the_previous_one_resumed(tmp_path):
    reference = evaluate(tmp_path / "reference")
    evaluate(tmp_path / "broken")
    newest = CheckpointDir(tmp_path / "broken" / "checkpoints").path(2)
    blob = bytearray(newest.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    newest.write_bytes(bytes(blob))
    (tmp_path / "broken" / "result.json").unlink()
    with pytest.warns(UserWarning, match="corrupt"):
        resumed = evaluate(tmp_path / "broken")
    assert without_time(resumed.curve) == without_time(reference.curve)
    assert (resumed.top1, resumed.top5) == (reference.top1, reference.top5)


def test_checkpoint_carrying_a_pickled_callable_is_refused(tmp_path):
    reference = evaluate(tmp_path / "reference", epochs=1)
    evaluate(tmp_path / "tampered", epochs=1)
    only = CheckpointDir(tmp_path / "tampered" / "checkpoints").path(1)
    save_checkpoint(only, {**load_checkpoint(only), "hook": os.getcwd})  # a valid checksum, bad content
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(only)
    (tmp_path / "tampered" / "result.json").unlink()
    with pytest.warns(UserWarning, match="refused"):
        retrained = evaluate(tmp_path / "tampered", epochs=1)  # nothing good left: trains from scratch
    assert without_time(retrained.curve) == without_time(reference.curve)


def test_genotypes_load_from_names_text_and_files(tmp_path):
    darts_v2 = parse_any("DARTS_V2")
    cell_file = tmp_path / "cell.txt"
    cell_file.write_text(str(darts_v2) + "\n")
    assert load_genotype(str(cell_file)) == darts_v2
    assert load_genotype("DARTS_V2") == load_genotype(str(darts_v2)) == darts_v2
    assert str(load_genotype(NB201_ARCH)) == NB201_ARCH
    (tmp_path / "bad.txt").write_text("Genotype(normal=[('sep_conv_3x3', 0)")
    with pytest.raises(GenotypeError, match="bad.txt"):
        load_genotype(str(tmp_path / "bad.txt"))
