"""Pair makers: properties of each kind's input side, not the pixels of one implementation."""

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from training_core.data.pair_makers import KINDS, PairSettings, make_input, working_copy
from training_core.errors import ConfigError


def artwork(seed=0, size=(320, 240)) -> Image.Image:
    """A painting-like image: a gradient sky, coloured shapes with dark outlines, fine texture."""
    rng = np.random.default_rng(seed)
    w, h = size
    ramp = np.linspace(0, 1, h)[:, None, None]
    sky = (np.array([70, 120, 200]) * (1 - ramp) + np.array([240, 200, 150]) * ramp).repeat(w, axis=1)
    image = Image.fromarray(sky.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = int(rng.integers(0, w - 60)), int(rng.integers(0, h - 60))
        box = (x, y, x + int(rng.integers(30, 90)), y + int(rng.integers(30, 90)))
        fill = tuple(int(c) for c in rng.integers(0, 255, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill, outline=(20, 20, 20), width=3)
    texture = rng.normal(0, 12, (h, w, 3))
    return Image.fromarray(np.clip(np.asarray(image) + texture, 0, 255).astype(np.uint8))


def _array(image):
    return np.asarray(image).astype(np.float64)


def test_every_kind_keeps_the_artworks_size_and_is_deterministic():
    art = artwork()
    for kind in KINDS:
        first, again = make_input(art, PairSettings(kind=kind)), make_input(art, PairSettings(kind=kind))
        assert first.size == art.size and first.mode == "RGB"
        assert np.array_equal(np.asarray(first), np.asarray(again)), kind


@pytest.mark.parametrize("weight", [1, 2, 4])
def test_lines_are_thin_dark_strokes_on_white(weight):
    art = artwork(size=(512, 384))
    lines = np.asarray(make_input(art, PairSettings(kind="lines", line_weight=weight)).convert("L"))
    values = set(np.unique(lines))
    assert values <= {0, 255}  # ink or paper, nothing between
    dark = lines == 0
    assert 0.01 < dark.mean() < 0.25  # mostly paper, but something is drawn
    # Strokes are thin: an opening with a disk a little wider than the weight erases nearly all of them.
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * weight + 3, 2 * weight + 3))
    survives = cv2.morphologyEx(dark.astype(np.uint8), cv2.MORPH_OPEN, disk).sum() / dark.sum()
    assert survives < 0.15
    # Lines follow the artwork's edges: most ink lies within a few pixels of a strong edge.
    edges = cv2.Canny(np.asarray(art.convert("L")), 60, 160)
    near_edges = cv2.dilate(edges, np.ones((2 * weight + 7, 2 * weight + 7), np.uint8)) > 0
    assert near_edges[dark].mean() > 0.8


def test_more_detail_draws_more_and_a_heavier_weight_draws_thicker():
    art = artwork(size=(512, 384))

    def ink(**settings):
        return (np.asarray(make_input(art, PairSettings(kind="lines", **settings)).convert("L")) == 0).mean()

    assert ink(detail=10) > ink(detail=6) > ink(detail=1)
    assert ink(line_weight=5) > ink(line_weight=3) > ink(line_weight=1)


def test_lines_remove_specks():
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 255, (256, 256), dtype=np.uint8)
    speckled = np.full((256, 256), 230, np.uint8)
    speckled[noise > 250] = 40  # isolated dark dots: no lines
    lines = np.asarray(make_input(Image.fromarray(speckled).convert("RGB"), PairSettings(kind="lines")))
    assert (lines == 0).mean() < 0.002


def test_grey_has_no_colour_and_keeps_the_lightness_order():
    art = artwork()
    grey = _array(make_input(art, PairSettings(kind="grey")))
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])
    luma = _array(art.convert("L"))
    assert np.corrcoef(luma.ravel(), grey[..., 0].ravel())[0, 1] > 0.98


@pytest.mark.parametrize("colours", [2, 5, 12])
def test_flat_has_at_most_the_chosen_colours_in_large_regions(colours):
    art = artwork()
    flat = np.asarray(make_input(art, PairSettings(kind="flat", colours=colours)))
    assert len(np.unique(flat.reshape(-1, 3), axis=0)) <= colours
    # Flats, not noise: far fewer colour changes between neighbours than the artwork has.
    changes = (np.abs(np.diff(flat.astype(int), axis=1)).sum(axis=2) > 0).mean()
    assert changes < 0.1


def _high_frequency_energy(image):
    return float(cv2.Laplacian(np.asarray(image.convert("L")).astype(np.float64), cv2.CV_64F).var())


def test_blur_has_less_high_frequency_energy_and_more_strength_removes_more():
    art = artwork()
    energy = [_high_frequency_energy(make_input(art, PairSettings(kind="blur", strength=s))) for s in (1, 5, 10)]
    assert energy[0] < 0.5 * _high_frequency_energy(art)
    assert energy[0] > energy[1] > energy[2]
    blurred = _array(make_input(art, PairSettings(kind="blur")))
    assert abs(blurred.mean() - _array(art).mean()) < 3  # softened, not darkened


def test_a_huge_artwork_is_made_at_the_working_size():
    big = artwork(size=(3000, 1000))
    work = working_copy(big, 1024)
    assert work.size == (1024, 341)
    assert working_copy(artwork(), 1024).size == (320, 240)  # never enlarged


@pytest.mark.parametrize(
    "settings,message",
    [
        (PairSettings(kind="sketch"), "kind 'sketch' is not valid"),
        (PairSettings(detail=0), "detail must be a whole number from 1 to 10"),
        (PairSettings(colours=1), "colours must be a whole number from 2 to 64"),
        (PairSettings(strength=float("nan")), "strength must be a whole number"),
        (PairSettings(working_side=10), "working_side must be a whole number from 64"),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(settings, message):
    with pytest.raises(ConfigError, match=message):
        settings.validate()


def test_only_a_kinds_own_settings_are_recorded():
    assert PairSettings(kind="grey", colours=3).own() == {"kind": "grey", "working_side": 1024}
    assert PairSettings(kind="lines").own() == {"kind": "lines", "detail": 6, "line_weight": 2, "working_side": 1024}
    assert PairSettings.from_dict({"kind": "flat", "colours": 4, "unknown": 1}) == PairSettings(kind="flat", colours=4)
