"""The DARTS evaluation network: published sizes, shapes at many resolutions, aux head, drop-path."""

import pytest
import torch

from nastransfer.errors import ConfigError, GenotypeError
from nastransfer.nets import EvalNet, build_eval_net, count_flops, count_params
from nastransfer.spaces.darts import PUBLISHED, sample
from nastransfer.spaces.nb201 import Arch

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def published_sizes():
    """Parameters of published CIFAR-10 and ImageNet (mobile) networks, auxiliary heads built but excluded."""
    sizes = {}
    for name in ("DARTS_V2", "PC_DARTS_cifar", "PDARTS"):
        sizes[name, "cifar"] = count_params(EvalNet(PUBLISHED[name], 36, 20, 10, auxiliary=True))
    sizes["DARTS_V2", "imagenet"] = count_params(
        EvalNet(PUBLISHED["DARTS_V2"], 48, 14, 1000, stem="imagenet", auxiliary=True)
    )
    return sizes


def test_darts_v2_cifar_size_is_the_darts_codes_count(published_sizes):
    assert published_sizes["DARTS_V2", "cifar"] == 3_349_342


@pytest.mark.parametrize(
    ("name", "stem", "millions"),
    [
        ("DARTS_V2", "cifar", 3.35),
        ("DARTS_V2", "imagenet", 4.72),
        ("PC_DARTS_cifar", "cifar", 3.63),
        ("PDARTS", "cifar", 3.43),
    ],
)
def test_published_sizes(published_sizes, name, stem, millions):
    assert abs(published_sizes[name, stem] / 1e6 - millions) <= 0.01


def test_auxiliary_head_is_built_but_not_counted():
    genotype = PUBLISHED["DARTS_V2"]
    with_aux = EvalNet(genotype, 8, 5, 10, auxiliary=True)
    without = EvalNet(genotype, 8, 5, 10)
    assert count_params(with_aux) == count_params(without)
    assert sum(p.numel() for p in with_aux.parameters()) > count_params(with_aux)


CASES = [
    ("cifar", 3, 32),
    ("cifar", 1, 28),
    ("cifar", 3, 8),
    ("cifar", 1, 64),
    ("imagenet", 3, 224),
    ("imagenet", 1, 28),
    ("imagenet", 3, 64),
    ("imagenet", 1, 32),
]


@pytest.mark.parametrize(("stem", "channels", "size"), CASES)
def test_forward_backward_at_many_resolutions(stem, channels, size):
    torch.manual_seed(0)
    net = EvalNet(sample(size), 4, 5, 7, in_channels=channels, stem=stem, auxiliary=True, drop_path=0.2)
    x = torch.randn(2, channels, size, size)
    logits, aux = net(x)
    assert logits.shape == aux.shape == (2, 7)
    (logits.logsumexp(1).sum() + 0.4 * aux.logsumexp(1).sum()).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.eval()
    with torch.no_grad():
        logits, aux = net(x)
    assert logits.shape == (2, 7) and aux is None


def test_every_published_cell_runs():
    for genotype in PUBLISHED.values():
        net = EvalNet(genotype, 4, 4, 3, auxiliary=True)
        logits, aux = net(torch.randn(2, 3, 16, 16))
        assert logits.shape == aux.shape == (2, 3)


def test_no_aux_logits_without_an_auxiliary_head():
    net = EvalNet(PUBLISHED["DARTS_V1"], 4, 3, 5).train()
    assert net(torch.randn(2, 3, 16, 16))[1] is None and net.auxiliary_head is None


def test_drop_path_is_read_per_forward_and_only_acts_in_training():
    torch.manual_seed(0)
    net = EvalNet(PUBLISHED["DARTS_V2"], 4, 3, 5, drop_path=0.0)
    x = torch.randn(4, 3, 16, 16)
    net.eval()
    with torch.no_grad():
        reference = net(x)[0]
        net.drop_path_prob = 0.9
        assert torch.equal(net(x)[0], reference)
        net.train()
        torch.manual_seed(1)
        dropped = net(x)[0]
        net.drop_path_prob = 0.0
        torch.manual_seed(1)
        kept = net(x)[0]
    assert not torch.allclose(dropped, kept)


def test_same_seed_same_network_and_output():
    outputs = []
    for _ in range(2):
        torch.manual_seed(3)
        net = EvalNet(sample(3), 4, 3, 5, drop_path=0.3).train()
        outputs.append(net(torch.ones(2, 3, 12, 12))[0])
    assert torch.equal(*outputs)


def test_flops_count_convolutions_and_linear_layers():
    net = EvalNet(PUBLISHED["DARTS_V2"], 4, 3, 5)
    small, large = count_flops(net, (3, 16, 16)), count_flops(net, (2, 3, 32, 32))
    assert small > 0 and abs(large / small - 4) < 0.1  # convolution cost scales with the pixel count
    assert net.training  # the mode is restored


def test_build_eval_net_picks_by_genotype_type():
    assert isinstance(build_eval_net(PUBLISHED["PDARTS"], C=4, layers=3, num_classes=2), EvalNet)
    with pytest.raises(GenotypeError, match="EvalNet needs a DARTS Genotype"):
        EvalNet(Arch(("none",) * 6), 4, 3, 2)
    with pytest.raises(GenotypeError, match="no evaluation network for a str"):
        build_eval_net("DARTS_V2")


def test_unknown_stem_is_a_config_error():
    with pytest.raises(ConfigError, match="EvalNet stem must be 'cifar' or 'imagenet', got 'mobile'"):
        EvalNet(PUBLISHED["DARTS_V2"], 4, 3, 2, stem="mobile")
