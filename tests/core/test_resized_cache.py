"""Training images are decoded and resized once, then kept: the samples stay exactly the same."""

import numpy as np
import pytest
import torch
from PIL import Image

from training_core.config import DataConfig
from training_core.data import datasets
from training_core.data.datasets import PairedDataset, UnpairedDataset
from training_core.errors import ImageLoadError

PREPROCESSES = ["resize_and_crop", "scale_width_and_crop", "crop", "scale_width", "none"]


def _photos(folder, count, size=(90, 60), seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{i}.png"
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def decodes(monkeypatch):
    """Counts the files the datasets decode."""
    seen = []
    real = datasets.load_rgb

    def counting(path, *args, **kwargs):
        seen.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(datasets, "load_rgb", counting)
    return seen


def _epochs(ds, epochs=3):
    out = []
    for epoch in range(epochs):
        ds.set_epoch(epoch)
        out += [ds[i] for i in range(len(ds))]
    return out


@pytest.mark.parametrize("preprocess", PREPROCESSES)
def test_cached_paired_samples_equal_freshly_decoded_ones(tmp_path, preprocess, decodes):
    files = _photos(tmp_path, 3, size=(100, 40))  # aligned pairs of 50x40 halves
    cfg = DataConfig(preprocess=preprocess, load_size=48, crop_size=32, flip=True)
    cached = _epochs(PairedDataset(files, cfg, multiple=4, seed=3))
    assert len(decodes) == 3  # each file once, not once an epoch
    uncached_ds = PairedDataset(files, cfg, multiple=4, seed=3)
    uncached_ds.limit_cache(0)
    fresh = _epochs(uncached_ds)
    assert len(decodes) == 3 + 9
    for a, b in zip(cached, fresh, strict=True):
        assert torch.equal(a["A"], b["A"]) and torch.equal(a["B"], b["B"])


@pytest.mark.parametrize("preprocess", PREPROCESSES)
def test_cached_unpaired_samples_equal_freshly_decoded_ones(tmp_path, preprocess, decodes):
    a, b = _photos(tmp_path / "A", 3, (70, 50)), _photos(tmp_path / "B", 2, (50, 70), seed=1)
    cfg = DataConfig(preprocess=preprocess, load_size=48, crop_size=32, flip=True, direction="BtoA")
    cached = _epochs(UnpairedDataset(a, b, cfg, multiple=4, seed=5))
    assert len(set(decodes)) == len(decodes) <= 5
    uncached_ds = UnpairedDataset(a, b, cfg, multiple=4, seed=5)
    uncached_ds.limit_cache(0)
    for x, y in zip(cached, _epochs(uncached_ds), strict=True):
        assert x["A_path"] == y["A_path"] and x["B_path"] == y["B_path"]
        assert torch.equal(x["A"], y["A"]) and torch.equal(x["B"], y["B"])


def test_the_cache_keeps_no_more_than_its_budget(tmp_path, decodes):
    files = _photos(tmp_path, 4, size=(40, 40))
    ds = UnpairedDataset(files, files[:1], DataConfig(preprocess="none", flip=False), multiple=4)
    ds.limit_cache(2 * 40 * 40 * 3)  # room for two decoded images
    for _ in range(3):
        for i in range(4):
            ds[i]
    assert ds.cache.used_bytes <= 2 * 40 * 40 * 3
    kept = {path for path in decodes if decodes.count(path) == 1}
    assert len(kept) == 2  # two stay decoded; the others are read each time
    assert len(decodes) == 2 + 2 * 3  # the two kept (one is also the partner), the other two each pass


def test_a_broken_image_is_reported_every_time_it_is_read(tmp_path):
    files = _photos(tmp_path, 2, size=(100, 40))
    files[1].write_bytes(b"not a png at all")
    ds = PairedDataset(files, DataConfig(preprocess="none"), multiple=4)
    ds[0]
    for _ in range(2):
        with pytest.raises(ImageLoadError) as failure:
            ds[1]
        assert failure.value.path == files[1]
