"""Zero-cost predictors: known values on tiny nets by hand or an independent formula, invariances,
seeds and bad input."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from nastransfer import predictors
from nastransfer.errors import ConfigError
from nastransfer.nets import build_eval_net
from nastransfer.predictors import Batch
from nastransfer.predictors.jacob_cov import EPSILON, correlation_score
from nastransfer.spaces import nb201

pytestmark = pytest.mark.usefixtures("float64_default")  # tiny nets in float64 (conftest)


def linear_net(*weights: np.ndarray, relu: bool = False) -> nn.Module:
    """Flatten, then bias-free linear layers with the given weights (ReLU between them if asked)."""
    layers: list[nn.Module] = [nn.Flatten()]
    for i, w in enumerate(weights):
        if i and relu:
            layers.append(nn.ReLU())
        layer = nn.Linear(w.shape[1], w.shape[0], bias=False)
        layer.weight.data = torch.tensor(w, dtype=torch.float64)
        layers.append(layer)
    return nn.Sequential(*layers)


def batch(n=6, shape=(1, 2, 2), classes=3, seed=0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    return Batch(torch.randn((n, *shape), generator=g), torch.randint(0, classes, (n,), generator=g))


W1 = np.array([[0.5, -1.0, 2.0, 0.1], [-0.3, 0.2, 0.7, -1.5]])
W2 = np.array([[1.0, -2.0], [0.4, 0.3], [-0.6, 0.9]])


def softmax_grad(w: np.ndarray, b: Batch) -> np.ndarray:
    """dL/dW of the mean cross-entropy of a softmax regression, by hand: (p - onehot)^T x / N."""
    x = b.inputs.flatten(1).numpy()
    z = x @ w.T
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(x)), b.targets.numpy()] -= 1
    return p.T @ x / len(x)


AZ_NAS = ["az_nas", "az_expressivity", "az_progressivity", "az_trainability", "az_complexity"]


def test_the_data_free_and_the_relative_predictors_are_those_documented():
    # every registered one is scored in tests/test_contracts.py; these are the documented exceptions
    data_free = {n for n in predictors.names() if not predictors.get(n).needs_data}
    assert data_free == {"synflow", "params", "flops", "zen", *AZ_NAS}
    assert {n for n in predictors.names() if predictors.get(n).relative} == {"az_nas", "tenas"}


def test_synflow_of_a_linear_chain_is_depth_times_the_path_sum():
    # R = 1^T |W2| |W1| 1 is homogeneous of degree 1 in each layer, so sum_w |w dR/dw| = R per layer.
    r = np.ones(3) @ np.abs(W2) @ np.abs(W1) @ np.ones(4)
    score = predictors.get("synflow").score(linear_net(W1, W2), batch(classes=3))
    assert score == pytest.approx(2 * r, rel=1e-12)


def test_synflow_ignores_batchnorm_images_and_keeps_the_weights():
    net = linear_net(W1, W2)
    with_bn = nn.Sequential(net[0], net[1], nn.BatchNorm1d(2), net[2])
    before = {k: v.clone() for k, v in with_bn.state_dict().items()}
    a = predictors.get("synflow").score(with_bn, batch(seed=1))
    b = predictors.get("synflow").score(with_bn, batch(seed=2))
    assert a == b == pytest.approx(predictors.get("synflow").score(net, batch()))
    assert all(torch.equal(before[k], v) for k, v in with_bn.state_dict().items())


def test_synflow_does_not_overflow_a_deep_chain():
    deep = linear_net(*[np.full((4, 4), 30.0)] * 30)  # 4^30 * 30^30 ~ 1e62: beyond float32
    assert math.isfinite(predictors.get("synflow").score(deep.float(), batch(shape=(1, 2, 2))))


def test_snip_and_grad_norm_match_the_hand_gradient():
    b = batch()
    g = softmax_grad(W2 @ W1, b)  # one layer W = W2 W1 for the single-layer check
    single = linear_net(W2 @ W1)
    assert predictors.get("snip").score(single, b) == pytest.approx(np.abs((W2 @ W1) * g).sum())
    assert predictors.get("grad_norm").score(single, b) == pytest.approx(np.linalg.norm(g))


def test_grasp_matches_the_hessian_from_autograd_functional():
    b = batch()
    w0 = torch.tensor(W2 @ W1)

    def loss(w):
        return nn.functional.cross_entropy(b.inputs.flatten(1) @ w.T, b.targets)

    g = torch.autograd.functional.jacobian(loss, w0).flatten()
    h = torch.autograd.functional.hessian(loss, w0).reshape(w0.numel(), w0.numel())
    expected = float(-(w0.flatten() * (h @ g)).sum())
    assert predictors.get("grasp").score(linear_net(W2 @ W1), b) == pytest.approx(expected, rel=1e-9)


def test_fisher_of_softmax_regression_by_hand():
    b = batch()
    w = W2 @ W1
    x = b.inputs.flatten(1).numpy()
    z = x @ w.T
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(x)), b.targets.numpy()] -= 1
    g_nk = z * p / len(x)  # activation times dL/dactivation
    expected = (0.5 * (g_nk**2).mean(0)).sum() * w.shape[1]
    assert predictors.get("fisher").score(linear_net(w), b) == pytest.approx(expected, rel=1e-9)


def test_jacob_cov_formula_and_a_linear_net():
    r = 0.6  # two rows with correlation r: eigenvalues 1 - r and 1 + r
    rows = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0]])
    rows[1] = r * (rows[0] - rows[0].mean()) / rows[0].std() + math.sqrt(1 - r**2) * np.array([1, -1, -1, 1])
    expected = -sum(math.log(v + EPSILON) + 1 / (v + EPSILON) for v in (1 - r, 1 + r))
    assert correlation_score(rows) == pytest.approx(expected, rel=1e-9)
    # A linear net gives every image the same Jacobian: correlation all ones, eigenvalues n, 0, ..., 0.
    n = 5
    ones = -(math.log(n + EPSILON) + 1 / (n + EPSILON)) - (n - 1) * (math.log(EPSILON) + 1 / EPSILON)
    assert predictors.get("jacob_cov").score(linear_net(W1, W2), batch(n=n)) == pytest.approx(ones, rel=1e-6)
    assert math.isnan(correlation_score(np.ones((3, 4))))


def test_naswot_kernel_by_hand_and_batch_order_invariance():
    net = linear_net(np.eye(2), np.ones((2, 2)), relu=True)
    x = torch.tensor([[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]]).reshape(3, 1, 1, 2)
    b = Batch(x, torch.zeros(3, dtype=torch.long))
    # codes (1,0), (0,1), (1,1): agreements [[2,0,1],[0,2,1],[1,1,2]], determinant 4
    assert predictors.get("naswot").score(net, b) == pytest.approx(math.log(4.0))
    b2 = batch(n=8, shape=(1, 1, 4), classes=2)
    relu_net = linear_net(np.random.default_rng(0).normal(size=(16, 4)), np.ones((2, 16)), relu=True)
    perm = torch.randperm(8, generator=torch.Generator().manual_seed(3))
    shuffled = Batch(b2.inputs[perm], b2.targets[perm])
    assert predictors.get("naswot").score(relu_net, shuffled) == pytest.approx(
        predictors.get("naswot").score(relu_net, b2)
    )


def test_params_and_flops_count_the_linear_layers():
    net = linear_net(W1, W2)
    assert predictors.get("params").score(net, batch()) == W1.size + W2.size
    assert predictors.get("flops").score(net, batch()) == W1.size + W2.size  # one MAC per weight


#: Predictors that read the batch in order; they ignore any order that keeps what they read.
READS_IN_ORDER = {"meco": "the first image only", "zico": "the two halves as two batches"}


@pytest.mark.parametrize("name", predictors.names())
def test_scoring_leaves_the_weights_alone_and_ignores_batch_order(name):
    torch.manual_seed(0)
    net = nb201_net(
        nb201.Arch(("nor_conv_3x3", "skip_connect", "nor_conv_1x1", "avg_pool_3x3", "none", "nor_conv_3x3"))
    )
    weights = [p.clone() for p in net.parameters()]
    b = batch(n=8, shape=(1, 8, 8))
    # reversed, or (first image kept, each half permuted within itself) for those reading in order
    perm = torch.tensor([0, 3, 1, 2, 6, 4, 7, 5]) if name in READS_IN_ORDER else torch.arange(7, -1, -1)
    torch.manual_seed(1)
    a = predictors.get(name).measure(net, b)
    torch.manual_seed(1)
    assert predictors.get(name).measure(net, Batch(b.inputs[perm], b.targets[perm])) == pytest.approx(a)
    assert all(torch.equal(w, p) for w, p in zip(weights, net.parameters(), strict=True))


def nb201_net(arch: nb201.Arch) -> nn.Module:
    return build_eval_net(arch, C=2, N=1, num_classes=3, in_channels=1)


def test_another_seed_draws_other_networks():
    cells = [nb201.sample(s) for s in (1, 2)] + [nb201.Arch(("nor_conv_3x3",) * 6)]
    b = batch(n=4, shape=(3, 8, 8), classes=10)
    options = {"C": 2, "N": 1, "num_classes": 10, "in_channels": 3}
    other, _ = predictors.score_cells("snip", cells, b, net_options=options, seed=6, dtype="float64")
    assert other != predictors.score_cells("snip", cells, b, net_options=options, seed=5, dtype="float64")[0]


def test_bad_input_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown zero-cost predictor 'zen-nas'"):
        predictors.get("zen-nas")
    with pytest.raises(ConfigError, match="inputs must be"):
        Batch(torch.zeros(3, 4), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ConfigError, match="targets must be 3 integer labels"):
        Batch(torch.zeros(3, 1, 2, 2), torch.zeros(3))
    with pytest.raises(ConfigError, match="NaN"):
        Batch(torch.full((2, 1, 2, 2), math.nan), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ConfigError, match=r"labels span 2..7 but the network has 3 classes"):
        predictors.get("snip").score(linear_net(W1, W2), Batch(batch().inputs, torch.arange(6) + 2))
    with pytest.raises(ConfigError, match="at least 2 images"):
        predictors.get("jacob_cov").score(linear_net(W1, W2), batch(n=1))
    with pytest.raises(ConfigError, match="ReLU"):
        predictors.get("naswot").score(linear_net(W1, W2), batch())
    with pytest.raises(ConfigError, match="no convolution or linear layer"):
        predictors.get("snip").score(nn.Sequential(nn.Flatten()), batch())
