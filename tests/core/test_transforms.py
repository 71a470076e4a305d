import numpy as np
import pytest
import torch
from PIL import Image

from training_core.config import DataConfig
from training_core.data.transforms import apply_transform, random_params, split_aligned, to_image, to_tensor


def _gradient(w, h):
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None].repeat(w, 1)
    return Image.fromarray(np.stack([x, y, 255 - x], -1).astype(np.uint8))


def test_tensor_round_trip_is_exact_and_in_minus_one_to_one():
    img = _gradient(20, 10)
    t = to_tensor(img)
    assert t.shape == (3, 10, 20) and t.min() >= -1 and t.max() <= 1
    assert np.array_equal(np.asarray(to_image(t)), np.asarray(img))


@pytest.mark.parametrize(
    "preprocess,size,expected",
    [
        ("resize_and_crop", (300, 157), (64, 64)),
        ("crop", (300, 157), (64, 64)),
        ("crop", (40, 30), (64, 64)),  # smaller than the crop: scaled up first, not an error
        ("scale_width", (256, 157), (96, 64)),  # width to load_size, height kept >= crop size and rounded
        ("scale_width_and_crop", (512, 256), (64, 64)),
        ("none", (256, 157), (256, 160)),  # rounded to the multiple the generator needs
    ],
)
def test_output_sizes_for_any_aspect_ratio(preprocess, size, expected):
    cfg = DataConfig(preprocess=preprocess, load_size=96, crop_size=64)
    rng = np.random.default_rng(0)
    img = _gradient(*size)
    out = apply_transform(img, random_params(img.size, cfg, rng), cfg, multiple=32)
    assert out.size == expected


def test_a_and_b_get_the_same_crop_and_flip():
    cfg = DataConfig(preprocess="resize_and_crop", load_size=80, crop_size=64, flip=True)
    a = _gradient(100, 60)
    b = Image.fromarray(255 - np.asarray(a))  # B is A inverted, pixel for pixel
    flips = set()
    for seed in range(12):
        params = random_params(a.size, cfg, np.random.default_rng(seed))
        flips.add(params.flip)
        ta = np.asarray(apply_transform(a, params, cfg, 4)).astype(int)
        tb = np.asarray(apply_transform(b, params, cfg, 4)).astype(int)
        assert np.abs(ta + tb - 255).max() <= 1
    assert flips == {True, False}


def test_random_choices_are_reproducible_and_vary():
    cfg = DataConfig(load_size=286, crop_size=256)
    p1 = random_params((300, 200), cfg, np.random.default_rng(7))
    assert p1 == random_params((300, 200), cfg, np.random.default_rng(7))
    crops = {random_params((300, 200), cfg, np.random.default_rng(s)).crop_x for s in range(20)}
    assert len(crops) > 5 and max(crops) <= 30


def test_flip_off_never_flips():
    cfg = DataConfig(flip=False)
    assert not any(random_params((300, 300), cfg, np.random.default_rng(s)).flip for s in range(30))


def test_split_aligned_halves_are_equal_in_size_even_for_odd_widths():
    img = _gradient(513, 157)
    a, b = split_aligned(img)
    assert a.size == b.size == (256, 157)
    assert np.array_equal(np.asarray(a), np.asarray(img)[:, :256])


def test_to_image_clips_out_of_range_values():
    t = torch.tensor([[[-3.0, 3.0]]]).repeat(3, 1, 1)
    assert np.asarray(to_image(t))[0].tolist() == [[0, 0, 0], [255, 255, 255]]
