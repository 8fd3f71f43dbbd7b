"""Named protocols: published values, overrides, schedules, and bad input through the CLI."""

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from nastransfer.cli.main import main
from nastransfer.errors import ConfigError
from nastransfer.train import Protocol, get_protocol, parse_overrides, prepare_data, protocols
from nastransfer.train.distributed import DistContext
from nastransfer.train.trainer import Trainer


def test_every_protocol_is_documented_and_frozen():
    named = protocols()
    assert {"darts-cifar", "darts-imagenet", "enhanced-cifar", "enhanced-imagenet", "cpu-mini"} <= set(named)
    for name, protocol in named.items():
        assert protocol.name == name and len(protocol.description) > 40
        with pytest.raises(Exception, match="frozen"):
            protocol.epochs = 1  # type: ignore[misc]


def test_darts_protocols_carry_the_published_hyper_parameters():
    cifar = get_protocol("darts-cifar")
    assert (cifar.epochs, cifar.batch_size, cifar.channels, cifar.layers) == (600, 96, 36, 20)
    assert (cifar.lr, cifar.momentum, cifar.weight_decay, cifar.schedule) == (0.025, 0.9, 3e-4, "cosine")
    assert (cifar.cutout, cifar.drop_path, cifar.auxiliary_weight, cifar.grad_clip) == (16, 0.2, 0.4, 5.0)
    imagenet = get_protocol("darts-imagenet")
    assert (imagenet.epochs, imagenet.batch_size, imagenet.channels, imagenet.layers) == (250, 128, 48, 14)
    assert (imagenet.stem, imagenet.image_size, imagenet.label_smoothing) == ("imagenet", 224, 0.1)
    assert imagenet.lr_at(0) == 0.1 and math.isclose(imagenet.lr_at(10), 0.1 * 0.97**10)


def test_enhanced_protocols_add_policy_smoothing_and_more_epochs_and_channels():
    for base_name in ("darts-cifar", "darts-imagenet"):
        base = get_protocol(base_name)
        enhanced = get_protocol(base_name.replace("darts", "enhanced"))
        assert enhanced.policy is not None and enhanced.label_smoothing > 0
        assert enhanced.epochs > base.epochs and enhanced.channels > base.channels


def test_schedules_warmup_and_linear_batch_scaling():
    cosine = get_protocol("darts-cifar", epochs=10)
    assert cosine.lr_at(0) == 0.025 and math.isclose(cosine.lr_at(5), 0.0125)
    assert cosine.drop_path_at(5) == pytest.approx(0.1)
    scaled = get_protocol("darts-imagenet", batch_size=1024)
    assert scaled.base_lr() == pytest.approx(0.8)
    warm = get_protocol("enhanced-imagenet")
    assert warm.lr_at(0) == pytest.approx(0.1 / 5) and warm.lr_at(4) == pytest.approx(0.1)
    assert warm.lr_at(5) == pytest.approx(0.1) and warm.lr_at(6) == pytest.approx(0.097)


def test_overrides_are_typed_and_checked():
    assert parse_overrides(["epochs=3", "amp=off", "image_size=None", "flip=false", "lr=0.1"]) == {
        "epochs": 3, "amp": "off", "image_size": None, "flip": False, "lr": 0.1
    }
    protocol = get_protocol("cpu-mini", **parse_overrides(["epochs=2", "channels_last=true"]))
    assert isinstance(protocol, Protocol) and protocol.epochs == 2 and protocol.channels_last is True
    with pytest.raises(ConfigError, match="protocol 'cpu-mini' has no field 'epoch'"):
        get_protocol("cpu-mini", epoch=2)
    with pytest.raises(ConfigError, match="field 'lr'"):
        get_protocol("darts-cifar", lr=-1)
    with pytest.raises(ConfigError, match="unknown protocol 'darts'"):
        get_protocol("darts")
    with pytest.raises(ConfigError, match="field=value"):
        parse_overrides(["epochs"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--protocol", "nope"], "unknown protocol 'nope'"),
        (["--set", "epoch=1"], "has no field 'epoch'"),
        (["--set", "amp=fast"], "field 'amp'"),
        (["--set", "lr_every=batch"], "field 'lr_every'"),
        (["--genotype", "Genotype(normal=[('sep_conv_3x3', 0)"], "genotype"),
        (["--dataset", "fashion-mnist", "--data-root", "/nonexistent/fmnist"], "not found"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(argv, message, capsys, tmp_path):
    base = {"--genotype": "DARTS_V2", "--dataset": "digits", "--workdir": str(tmp_path / "run")}
    for flag, value in zip(argv[::2], argv[1::2], strict=True):
        base[flag] = value
    args = ["train"] + [item for pair in base.items() for item in pair]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_protocols_command_lists_every_protocol_and_field(capsys):
    assert main(["protocols"]) == 0
    out = capsys.readouterr().out
    for name in protocols():
        assert name in out
    for field in ("label_smoothing", "auxiliary_weight", "data_fraction", "channels_last"):
        assert field in out


def test_test_fraction_keeps_a_stratified_part_of_the_test_set():
    _, full = prepare_data("digits", get_protocol("cpu-mini"))
    train, part = prepare_data("digits", get_protocol("cpu-mini", test_fraction=0.25, data_fraction=0.5))
    assert abs(len(part) - len(full) / 4) <= 10 and len(train) < len(full) * 4
    assert set(np.unique(part.labels)) == set(np.unique(full.labels))
    assert prepare_data("digits", get_protocol("cpu-mini", test_fraction=0.25))[1].labels.tolist() == (
        part.labels.tolist()
    )
    with pytest.raises(ConfigError, match="test_fraction"):
        get_protocol("cpu-mini", test_fraction=0)


@pytest.mark.parametrize("every", ["epoch", "step"])
def test_the_learning_rate_moves_once_an_epoch_or_before_every_step(every):
    """Per step, step i of epoch e trains at the schedule's value at e + i/n, so a short cosine ends
    near lr_min; per epoch (DARTS's and NB201's released code), a whole epoch keeps epoch e's value."""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 3)

        def forward(self, x):
            return self.linear(x.flatten(1)), None

    protocol = get_protocol("cpu-mini", epochs=2, lr=0.4, lr_min=0.01, channels_last=False, lr_every=every)
    trainer = Trainer(Net(), protocol, torch.device("cpu"), DistContext())
    batches = [(torch.randn(2, 1, 2, 2), torch.tensor([0, 2])) for _ in range(4)]
    seen = []
    for epoch in range(2):
        trainer.set_epoch(epoch)
        trainer.train_epoch(batches, on_step=lambda: seen.append(trainer.optimizer.param_groups[0]["lr"]))

    def cosine(t):  # t in epochs
        return 0.01 + (0.4 - 0.01) * 0.5 * (1 + math.cos(math.pi * t / 2))

    fraction = (lambda i: i / 4) if every == "step" else (lambda i: 0)
    points = [e + fraction(i) for e in range(2) for i in range(4)]
    assert seen == pytest.approx([cosine(t) for t in points], rel=1e-12)


def test_a_later_field_is_recorded_only_when_set_so_older_runs_keep_their_keys():
    """A run directory, checkpoint or cached timing made before `lr_every` existed holds no such key:
    at its default (the old behaviour) the field is left out of the record, and reads back the same."""
    base = get_protocol("cpu-mini")
    assert "lr_every" not in base.model_dump() and "lr_every" not in json.loads(base.model_dump_json())
    stepped = get_protocol("cpu-mini", lr_every="step")
    assert stepped.model_dump()["lr_every"] == "step"
    assert Protocol(**base.model_dump()) == base and Protocol(**stepped.model_dump()) == stepped
