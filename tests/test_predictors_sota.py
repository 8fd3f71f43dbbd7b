"""The 2021-2024 zero-cost predictors (zico, meco, swap, zen, AZ-NAS, TE-NAS): tiny float64 cases by
hand or an independent formula, invariances, seeds, rank aggregation and bad input."""

import copy
import math

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from nastransfer import predictors
from nastransfer.errors import ConfigError
from nastransfer.nets import NB201Net
from nastransfer.predictors import Batch
from nastransfer.predictors.az_nas import block_trainability, spectrum_entropy
from nastransfer.predictors.meco import min_correlation_eigenvalue
from nastransfer.predictors.swap import distinct_columns
from nastransfer.predictors.tenas import condition_number, ntk_gram
from nastransfer.predictors.zico import inverse_variation
from nastransfer.spaces import nb201

pytestmark = pytest.mark.usefixtures("float64_default")  # tiny nets in float64 (conftest)


def batch(n=6, shape=(1, 2, 2), classes=3, seed=0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    return Batch(torch.randn((n, *shape), generator=g), torch.randint(0, classes, (n,), generator=g))


def tiny_nb201(arch=None, classes=3) -> nn.Module:
    torch.manual_seed(0)
    return NB201Net(arch or nb201.Arch(("nor_conv_3x3",) * 6), C=2, N=1, num_classes=classes, in_channels=1)


def pixel_relu_net(w: float) -> nn.Module:
    """A 1x1 convolution of one channel (weight w) and a ReLU: unit p of image n is on iff w x[n, p] > 0."""
    conv = nn.Conv2d(1, 1, 1, bias=False)
    conv.weight.data.fill_(w)
    return nn.Sequential(conv, nn.ReLU())


# ZiCo


def softmax_grad(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    z = x @ w.T
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(x)), y] -= 1
    return p.T @ x / len(x)


def test_zico_inverse_variation_by_hand_and_on_softmax_regression():
    # std over the two rows: (1, 0, 0); mean |g|: (2, 2, 0); only the first weight counts: log(2 / 1)
    assert inverse_variation(np.array([[1.0, 2.0, 0.0], [3.0, 2.0, 0.0]])) == pytest.approx(math.log(2.0))
    assert inverse_variation(np.zeros((2, 3))) == 0.0
    w = np.array([[0.5, -1.0, 2.0, 0.1], [-0.3, 0.2, 0.7, -1.5], [1.0, 0.4, -0.6, 0.9]])
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3, bias=False))
    net[1].weight.data = torch.tensor(w)
    b = batch(n=6)
    x, y = b.inputs.flatten(1).numpy(), b.targets.numpy()
    g = np.stack([softmax_grad(w, x[:3], y[:3]).ravel(), softmax_grad(w, x[3:], y[3:]).ravel()])
    expected = math.log(np.sum(np.abs(g).mean(0) / g.std(0)))
    assert predictors.get("zico").score(net, b) == pytest.approx(expected, rel=1e-10)
    halves_swapped = Batch(torch.cat([b.inputs[3:], b.inputs[:3]]), torch.cat([b.targets[3:], b.targets[:3]]))
    assert predictors.get("zico").score(net, halves_swapped) == pytest.approx(expected, rel=1e-10)


# MeCo


def test_meco_eigenvalue_matches_numpy_and_sums_every_module_on_the_first_image():
    rng = np.random.default_rng(0)
    feature = rng.normal(size=(4, 3, 3))
    feature[2] = 1.5  # a constant channel: its correlations are undefined and set to 0
    corr = np.corrcoef(feature.reshape(4, -1)[[0, 1, 3]])
    full = np.zeros((4, 4))
    full[np.ix_([0, 1, 3], [0, 1, 3])] = corr
    assert min_correlation_eigenvalue(torch.tensor(feature)) == pytest.approx(np.linalg.eigvalsh(full)[0])
    conv = nn.Conv2d(1, 3, 2, bias=False)
    conv.weight.data = torch.tensor(rng.normal(size=(3, 1, 2, 2)))
    net = nn.Sequential(conv, nn.ReLU())
    b = batch(n=3, shape=(1, 4, 4))
    out = conv(b.inputs[:1]).detach()[0].numpy()

    def smallest(f):
        c = np.corrcoef(f.reshape(len(f), -1))
        c[~np.isfinite(c)] = 0
        return np.linalg.eigvalsh(c)[0]

    # hooks on the Sequential (its output is the ReLU's), the conv and the ReLU
    expected = smallest(out) + 2 * smallest(np.maximum(out, 0))
    assert predictors.get("meco").score(net, b) == pytest.approx(expected, rel=1e-10)
    others = Batch(torch.cat([b.inputs[:1], -b.inputs[1:]]), b.targets)
    assert predictors.get("meco").score(net, others) == pytest.approx(expected, rel=1e-10)


# SWAP


def test_distinct_columns_matches_a_set_of_tuples():
    rng = np.random.default_rng(1)
    for rows in (5, 70):
        codes = rng.random((rows, 400)) < 0.5
        codes[:, 200:] = codes[:, :200]  # every pattern at least twice
        codes[:, 7] = codes[:, 3]
        expected = len({tuple(c) for c in codes.T})
        assert distinct_columns(torch.tensor(codes)) == expected


def test_swap_counts_pixel_patterns_whatever_the_redrawn_weight():
    # Unit p of image n is on iff w x[n, p] > 0: for w > 0 the patterns are the columns of x > 0,
    # for w < 0 their complements; either way as many distinct ones, so every re-draw gives it.
    x = torch.tensor([[1.0, -1, 2, 3], [-1, -2, 1, 1], [1, 1, -1, 2]]).reshape(3, 1, 2, 2)
    # pixel patterns over the 3 images: (1,0,1), (0,0,1), (1,1,0), (1,1,1): 4 distinct
    b = Batch(x, torch.zeros(3, dtype=torch.long))
    assert predictors.get("swap").score(pixel_relu_net(0.5), b) == 4.0
    x2 = torch.tensor([[1.0, 2, 3, 4], [-1, -2, 1, 1], [1, 1, -1, 2]]).reshape(3, 1, 2, 2)
    # now (1,0,1), (1,0,1), (1,1,0), (1,1,1): 3 distinct
    assert predictors.get("swap").score(pixel_relu_net(0.5), Batch(x2, b.targets)) == 3.0
    reg = type(predictors.get("swap_reg"))(mu_k=0.5, sigma_k2=2.0)  # one parameter: 0.001 thousand
    factor = math.exp(-((0.001 - 0.5) ** 2) / 2.0)
    assert reg.score(pixel_relu_net(0.5), b) == pytest.approx(4.0 * factor, rel=1e-12)
    assert predictors.get("swap").score(pixel_relu_net(0.5), Batch(x[[2, 0, 1]], b.targets)) == 4.0


# Zen


def test_zen_matches_the_released_recipe_written_out():
    net = tiny_nb201()
    b = batch(n=5, shape=(1, 8, 8))
    torch.manual_seed(3)
    score = predictors.get("zen").score(net, b)
    torch.manual_seed(3)
    plain = copy.deepcopy(net)
    for m in plain.modules():  # N(0, 1) weights in module order, BatchNorm scale 1 / shift 0
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.normal_(m.weight)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    x, e = torch.randn(b.inputs.shape), torch.randn(b.inputs.shape)
    variances: dict[nn.Module, list[torch.Tensor]] = {}

    def unbiased(module, inputs, _output):
        variances.setdefault(module, []).append(inputs[0].var(dim=(0, 2, 3), unbiased=True))

    bns = [m for m in plain.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in bns:
        bn.register_forward_hook(unbiased)
    plain.train()
    with torch.no_grad():
        f = plain.lastact(plain.cells(plain.stem(x)))
        g = plain.lastact(plain.cells(plain.stem(x + 0.01 * e)))
    expected = math.log(float((f - g).abs().sum(dim=(1, 2, 3)).mean()))
    for bn in bns:  # running variance after two steps of momentum 0.1 from 1
        v1, v2 = variances[bn]
        expected += 0.5 * math.log(float((0.81 + 0.09 * v1 + 0.1 * v2).mean()))
    assert score == pytest.approx(expected, rel=1e-10)


# AZ-NAS


def test_spectrum_entropy_matches_numpy():
    rng = np.random.default_rng(2)
    f = rng.normal(size=(3, 4, 2, 2))
    f[:, 3] = f[:, 0] + f[:, 1]  # rank 3 of 4: one zero eigenvalue
    rows = f.transpose(0, 2, 3, 1).reshape(-1, 4)
    v = np.linalg.eigvalsh(np.cov(rows.T, bias=True))
    p = v / v.sum()
    assert spectrum_entropy(torch.tensor(f)) == pytest.approx(float(-(p * np.log(p + 1e-8)).sum()), rel=1e-10)
    assert spectrum_entropy(torch.tensor(f, dtype=torch.float32)) == pytest.approx(
        float(-(p * np.log(p + 1e-8)).sum()), rel=1e-5
    )


def test_block_trainability_of_a_linear_block_and_a_strided_one():
    rng = np.random.default_rng(3)
    w = rng.normal(size=(3, 2))
    f_in = torch.tensor(rng.normal(size=(2, 2, 4, 4)), requires_grad=True)
    f_out = torch.einsum("oc,nchw->nohw", torch.tensor(w), f_in)
    torch.manual_seed(5)
    g = ((torch.bernoulli(torch.full((2, 3, 4, 4), 0.5)) - 0.5) * 2).numpy()
    g_in = np.einsum("oc,nohw->nchw", w, g)  # the block's transposed Jacobian applied to g
    m = g_in.transpose(0, 2, 3, 1).reshape(-1, 2).T @ g.transpose(0, 2, 3, 1).reshape(-1, 3) / 32
    s = np.linalg.svd(m, compute_uv=False).max()
    torch.manual_seed(5)
    assert block_trainability(f_in, f_out) == pytest.approx(-s - 1 / (s + 1e-6) + 2, rel=1e-10)
    # stride 2 (keep every other pixel): g_in holds g at even positions, unshuffled into 4 channel groups
    f_in = torch.tensor(rng.normal(size=(2, 2, 4, 4)), requires_grad=True)
    f_out = f_in[:, :, ::2, ::2] * 2.0
    torch.manual_seed(6)
    g = ((torch.bernoulli(torch.full((2, 2, 2, 2), 0.5)) - 0.5) * 2).numpy()
    unshuffled = np.zeros((2, 8, 2, 2))
    unshuffled[:, [0, 4]] = 2.0 * g  # channel c's offset (0, 0) is unshuffled channel 4c
    m = unshuffled.transpose(0, 2, 3, 1).reshape(-1, 8).T @ g.transpose(0, 2, 3, 1).reshape(-1, 2) / 8
    s = np.linalg.svd(m, compute_uv=False).max()
    torch.manual_seed(6)
    assert block_trainability(f_in, f_out) == pytest.approx(-s - 1 / (s + 1e-6) + 2, rel=1e-10)
    identity_in = torch.ones((1, 2, 2, 2), requires_grad=True)
    assert block_trainability(identity_in, identity_in * 1.0) == -math.inf


def test_rank_aggregates_by_hand():
    az = ("az_expressivity", "az_progressivity", "az_trainability", "az_complexity")
    values = [(1.0, 5.0, 0.0, 2.0), (3.0, float("nan"), 0.0, 2.0), (2.0, 5.0, 0.0, 2.0)]
    rows = [dict(zip(az, v, strict=True)) for v in values]
    # expressivity ranks 1, 3, 2; progressivity: NaN lowest (1), the tied 5s share 2.5; the last two tie (2)
    tied = 2 * math.log(2 / 3)
    assert predictors.get("az_nas").combine(rows) == pytest.approx(
        [
            math.log(1 / 3) + math.log(2.5 / 3) + tied,
            math.log(1 / 3) + tied,
            math.log(2 / 3) + math.log(2.5 / 3) + tied,
        ]
    )
    te = [{"tenas_ntk": a, "tenas_lr": b} for a, b in ((-5.0, 64.0), (-2.0, 64.0), (-9.0, 60.0))]
    assert predictors.get("tenas").combine(te) == pytest.approx([2 + 2.5, 3 + 2.5, 1 + 1])


def test_az_nas_row_holds_its_components_and_aggregates_by_log_rank():
    b = batch(n=4, shape=(1, 8, 8))
    cells = [nb201.Arch(("nor_conv_3x3",) * 6), nb201.sample(4), nb201.Arch(("nor_conv_1x1",) * 6)]
    options = {"C": 2, "N": 1, "num_classes": 3, "in_channels": 1}
    rows, _ = predictors.measure_cells("az_nas", cells, b, net_options=options, seed=1, dtype="float64")
    for name in ("az_expressivity", "az_progressivity", "az_trainability", "az_complexity"):
        alone, _ = predictors.score_cells(name, cells, b, net_options=options, seed=1, dtype="float64")
        assert alone == [row[name] for row in rows], name
    scores, _ = predictors.score_cells("az_nas", cells, b, net_options=options, seed=1, dtype="float64")
    columns = [[row[k] for row in rows] for k in rows[0]]
    expected = np.sum([np.log(stats.rankdata(c) / 3) for c in columns], axis=0)
    assert scores == pytest.approx(expected.tolist())
    assert predictors.get("az_nas").relative and not predictors.get("az_expressivity").relative


# TE-NAS


def test_ntk_of_a_linear_net_is_classes_times_the_input_gram():
    # logits = W x: the gradient of sum_k (W x_n)_k is 1 x_n^T, so NTK[n, m] = classes * x_n . x_m
    b = batch(n=3, shape=(1, 2, 2))
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3, bias=False))
    x = b.inputs.flatten(1)
    assert torch.allclose(ntk_gram(net, b), 3 * x @ x.T, rtol=1e-12)
    v = np.linalg.eigvalsh((3 * x @ x.T).numpy())
    assert predictors.get("tenas_ntk").score(net, b) == pytest.approx(-v[-1] / v[0], rel=1e-8)
    assert condition_number(torch.full((2, 2), math.nan)) == 100000.0


def test_ntk_with_batchnorm_matches_autograd_functional_jacobian():
    net = tiny_nb201()
    b = batch(n=3, shape=(1, 8, 8))
    names = [n for n, _ in net.named_parameters() if n.endswith("weight")]
    params = dict(net.named_parameters())

    def per_image_sums(*weights):
        out = torch.func.functional_call(
            net, {**params, **dict(zip(names, weights, strict=True))}, (b.inputs,)
        )
        return out[0].sum(dim=1)

    net.train()
    jac = torch.autograd.functional.jacobian(per_image_sums, tuple(params[n] for n in names))
    j = torch.cat([g.flatten(1) for g in jac], dim=1)
    assert torch.allclose(ntk_gram(net, b), j @ j.T, rtol=1e-9)


def test_linear_regions_count_distinct_image_patterns_of_normal_inputs():
    b, net = batch(n=7, shape=(1, 1, 2)), pixel_relu_net(-1.0)
    torch.manual_seed(4)
    x = torch.randn(b.inputs.shape)
    expected = len({tuple(row) for row in (x.flatten(1) < 0).tolist()})  # w < 0: on where x < 0
    assert 1 < expected < 7
    torch.manual_seed(4)
    assert predictors.get("tenas_lr").score(net, b) == expected


def test_tenas_sums_the_two_ranks():
    b = batch(n=4, shape=(1, 8, 8))
    cells = [nb201.Arch(("nor_conv_3x3",) * 6), nb201.sample(4), nb201.sample(9)]
    options = {"C": 2, "N": 1, "num_classes": 3, "in_channels": 1}
    rows, _ = predictors.measure_cells("tenas", cells, b, net_options=options, seed=0, dtype="float64")
    ntk, _ = predictors.score_cells("tenas_ntk", cells, b, net_options=options, seed=0, dtype="float64")
    lr, _ = predictors.score_cells("tenas_lr", cells, b, net_options=options, seed=0, dtype="float64")
    assert [r["tenas_ntk"] for r in rows] == ntk and [r["tenas_lr"] for r in rows] == lr
    scores, _ = predictors.score_cells("tenas", cells, b, net_options=options, seed=0, dtype="float64")
    assert scores == pytest.approx((stats.rankdata(ntk) + stats.rankdata(lr)).tolist())


# Seeds, data-freedom, bad input


@pytest.mark.parametrize("name", ["swap", "zen", "az_expressivity", "az_trainability"])
def test_predictors_that_draw_follow_the_seed(name):
    # (tenas_lr's draw is checked against the seed's normal images above)
    cells = [nb201.Arch(("nor_conv_3x3",) * 6)]
    b = batch(n=12, shape=(1, 8, 8))
    options = {"C": 2, "N": 1, "num_classes": 3, "in_channels": 1}
    a, _ = predictors.score_cells(name, cells, b, net_options=options, seed=1, dtype="float64")
    again, _ = predictors.score_cells(name, cells, b, net_options=options, seed=1, dtype="float64")
    other, _ = predictors.score_cells(name, cells, b, net_options=options, seed=2, dtype="float64")
    assert a == again and a != other


@pytest.mark.parametrize("name", ["zen", "az_expressivity", "az_progressivity", "az_trainability"])
def test_data_free_predictors_ignore_the_images(name):
    assert not predictors.get(name).needs_data
    b = batch(n=4, shape=(1, 8, 8))
    scores = []
    for inputs in (b.inputs, b.inputs * -3.0):
        torch.manual_seed(0)
        scores.append(predictors.get(name).score(tiny_nb201(), Batch(inputs, b.targets)))
    assert scores[0] == scores[1]


def test_bad_input_is_refused():
    net = tiny_nb201()
    one = batch(n=1, shape=(1, 8, 8))
    for name, message in (
        ("zico", "at least 2 images"),
        ("tenas_ntk", "at least 2 images"),
        ("swap", "at least 2"),
    ):
        with pytest.raises(ConfigError, match=message):
            predictors.get(name).score(net, one)
    flat = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    for name in ("zen", "az_expressivity", "az_trainability"):
        with pytest.raises(ConfigError, match="no stem/cells/lastact"):
            predictors.get(name).score(flat, batch())
    for name in ("swap", "tenas_lr"):
        with pytest.raises(ConfigError, match="ReLU"):
            predictors.get(name).score(flat, batch())
    with pytest.raises(ConfigError, match="ReLU of Sequential ran on a 4-D"):
        predictors.get("swap").score(nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU()), batch())
    for name in ("az_nas", "tenas"):
        with pytest.raises(ConfigError, match="ranks each cell among the cells scored with it"):
            predictors.get(name).score(net, batch(n=4, shape=(1, 8, 8)))
    with pytest.raises(ConfigError, match="at least one scored cell"):
        predictors.get("az_nas").combine([])
