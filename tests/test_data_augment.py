"""Batched augmentation: shapes, determinism by generator, crop/flip/cutout correctness, policies."""

import pytest
import torch

from nastransfer.data import Augment, policies
from nastransfer.data.augment import cutout, random_crop_flip
from nastransfer.errors import ConfigError


def ramp_batch(n=16, c=3, size=8):
    """Images whose pixels are all distinct and positive, so moves are traceable."""
    base = torch.arange(1, c * size * size + 1, dtype=torch.float32).reshape(c, size, size)
    return (base[None] + 1000 * torch.arange(n, dtype=torch.float32)[:, None, None, None]).contiguous()


def test_crop_is_a_shifted_window_of_the_zero_padded_image():
    x = ramp_batch()
    out = random_crop_flip(x, 2, False, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    shifts = set()
    for i in range(len(x)):
        windows = {(dy, dx): padded[i, :, dy : dy + 8, dx : dx + 8] for dy in range(5) for dx in range(5)}
        matches = [shift for shift, window in windows.items() if torch.equal(window, out[i])]
        assert len(matches) == 1
        shifts.add(matches[0])
    assert len(shifts) > 3  # offsets are drawn per image


def test_flip_mirrors_about_half_of_the_images():
    x = ramp_batch(n=200)
    out = random_crop_flip(x, 0, True, torch.Generator().manual_seed(1))
    flipped = [torch.equal(out[i], x[i].flip(2)) for i in range(len(x))]
    kept = [torch.equal(out[i], x[i]) for i in range(len(x))]
    assert all(f != k for f, k in zip(flipped, kept, strict=True))
    assert 70 < sum(flipped) < 130


def test_crop_and_flip_together_give_a_mirrored_window():
    x = ramp_batch(n=100)
    out = random_crop_flip(x, 3, True, torch.Generator().manual_seed(5))
    padded = torch.nn.functional.pad(x, (3, 3, 3, 3))
    mirrored = 0
    for i in range(len(x)):
        windows = [padded[i, :, dy : dy + 8, dx : dx + 8] for dy in range(7) for dx in range(7)]
        plain = any(torch.equal(win, out[i]) for win in windows)
        flipped = any(torch.equal(win.flip(2), out[i]) for win in windows)
        assert plain != flipped
        mirrored += flipped
    assert 25 < mirrored < 75


def test_cutout_zeroes_one_clipped_square_per_image():
    x = torch.ones(64, 2, 16, 16)
    out = cutout(x, 6, torch.Generator().manual_seed(2))
    holes = (out == 0).all(dim=1)
    assert (out == 0).sum(dim=1).remainder(2).eq(0).all()  # same hole in every channel
    sizes = holes.sum(dim=(1, 2))
    assert sizes.max() == 36 and sizes.min() > 0
    for hole in holes:
        rows, cols = hole.any(1).nonzero().flatten(), hole.any(0).nonzero().flatten()
        assert hole.sum() == len(rows) * len(cols)  # a rectangle


def test_same_generator_seed_same_output_and_uint8_equals_float_input():
    aug = Augment(crop_padding=4, flip=True, cutout=8, mean=(0.5, 0.4, 0.3), std=(0.2, 0.2, 0.2))
    x = torch.randint(0, 256, (32, 3, 16, 16), dtype=torch.uint8)
    a, b = aug(x, 7), aug(x, torch.Generator().manual_seed(7))
    assert torch.equal(a, b) and a.dtype == torch.float32 and a.shape == x.shape
    assert torch.allclose(aug(x.float() / 255, 7), a, atol=1e-5)
    assert not torch.equal(a, aug(x, 8))


def test_normalisation_and_resize():
    x = torch.full((4, 3, 8, 8), 255, dtype=torch.uint8)
    out = Augment(resize=12, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))(x, 0)
    assert out.shape == (4, 3, 12, 12)
    assert torch.allclose(out, torch.full_like(out, 2.0))
    assert torch.equal(Augment(normalize=False)(x, 0), torch.ones(4, 3, 8, 8))
    with pytest.raises(ConfigError, match="mean/std"):
        Augment()(x, 0)


@pytest.mark.parametrize("policy", ["randaugment", "autoaugment"])
def test_policies_are_batched_deterministic_and_change_images(policy):
    aug = Augment(policy=policy, normalize=False)
    x = torch.randint(0, 256, (64, 3, 16, 16), dtype=torch.uint8)
    a = aug(x, 3)
    assert a.shape == x.shape and torch.equal(a, aug(x, 3))
    assert a.min() >= 0 and a.max() <= 1
    changed = (a - x.float() / 255).abs().flatten(1).amax(1) > 1e-3
    assert changed.float().mean() > 0.5


def test_bad_policy_is_a_config_error():
    with pytest.raises(ConfigError, match="policy"):
        Augment(policy="mixup")


def test_policy_operations_do_what_their_names_say():
    x = torch.rand(6, 3, 16, 16)
    full = torch.ones(6)
    assert torch.allclose(policies.invert(x, full), 1 - x)
    assert torch.equal(policies.solarize(x, full * 0.5), torch.where(x >= 0.5, 1 - x, x))
    levels = torch.round(x * 255)
    assert torch.equal(policies.posterize(x, full), (levels.long() & 0xF0).float() / 255)  # 4 bits kept
    for op in (policies.rotate, policies.shear_x, policies.translate_y, policies.brightness, policies.color):
        assert torch.allclose(op(x, torch.zeros(6)), x, atol=1e-5)  # strength 0 is the identity
    square = torch.zeros(1, 1, 16, 16)
    square[..., 4:8, 4:8] = 1.0
    moved = policies.translate_x(square, torch.tensor([4 / 16 / 0.45]))  # shift by a quarter: 4 pixels
    assert torch.allclose(moved[..., 4:8, 0:4], torch.ones(1, 1, 4, 4), atol=1e-5)
    turned = policies.rotate(square, torch.tensor([3.0]))  # 90 degrees: a square stays a square
    assert torch.isclose(turned.sum(), square.sum(), atol=1e-3)
    assert torch.equal(policies.brightness(x, full), (x * 1.9).clamp(0, 1))
    flat = torch.linspace(0.2, 0.4, 256).reshape(1, 1, 16, 16)
    stretched = policies.autocontrast(flat, full)
    assert stretched.min() == 0 and stretched.max() == 1
    equalised = policies.equalize(torch.round(flat * 255) / 255, full)
    assert equalised.max() == 1 and equalised.min() == 0
