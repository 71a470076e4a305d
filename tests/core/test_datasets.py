import numpy as np
import pytest
import torch
from PIL import Image

from training_core.config import DataConfig
from training_core.data.datasets import PairedDataset, UnpairedDataset


def _save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array.astype(np.uint8)).save(path)
    return path


@pytest.fixture
def aligned(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(3):
        a = rng.integers(0, 256, (40, 50, 3))
        paths.append(_save(tmp_path / f"{i}.png", np.concatenate([a, 255 - a], axis=1)))  # A | inverted A
    return paths


def test_aligned_pairs_stay_registered_after_crop_and_flip(aligned):
    cfg = DataConfig(preprocess="crop", crop_size=32, flip=True)
    ds = PairedDataset(aligned, cfg, multiple=4, seed=0)
    for epoch in range(3):
        ds.set_epoch(epoch)
        for i in range(len(ds)):
            s = ds[i]
            assert s["A"].shape == s["B"].shape == (3, 32, 32)
            assert torch.allclose(s["A"] + s["B"], torch.zeros(()), atol=1e-5)  # still A and its inverse


def test_direction_b_to_a_swaps_the_halves(aligned):
    fwd = PairedDataset(aligned, DataConfig(preprocess="none", flip=False), multiple=4)[0]
    back = PairedDataset(aligned, DataConfig(preprocess="none", flip=False, direction="BtoA"), multiple=4)[0]
    assert torch.equal(fwd["A"], back["B"]) and torch.equal(fwd["B"], back["A"])


def test_samples_depend_on_seed_epoch_and_index_only(aligned):
    cfg = DataConfig(preprocess="crop", crop_size=16)
    ds1, ds2 = PairedDataset(aligned, cfg, seed=1), PairedDataset(aligned, cfg, seed=1)
    _ = ds2[2]  # reading other samples first changes nothing
    assert torch.equal(ds1[0]["A"], ds2[0]["A"])
    crops = set()
    for epoch in range(6):
        ds1.set_epoch(epoch)
        crops.add(ds1[0]["A"].sum().item())
    assert len(crops) > 1  # a new epoch draws new crops


def test_separate_pair_files_of_slightly_different_size(tmp_path):
    a = _save(tmp_path / "A" / "x.png", np.zeros((30, 40, 3)))
    b = _save(tmp_path / "B" / "x.png", np.full((31, 41, 3), 255))
    s = PairedDataset([(a, b)], DataConfig(preprocess="none"), multiple=4)[0]
    assert s["A"].shape == s["B"].shape == (3, 32, 40)


def test_unpaired_partners_are_random_but_reproducible(tmp_path):
    domain_a = [_save(tmp_path / "A" / f"{i}.png", np.full((16, 16, 3), i)) for i in range(3)]
    domain_b = [_save(tmp_path / "B" / f"{i}.png", np.full((16, 16, 3), 100 + i)) for i in range(5)]
    ds = UnpairedDataset(domain_a, domain_b, DataConfig(preprocess="none"), seed=0)
    assert len(ds) == 5  # the larger domain sets the epoch length
    partners = [ds[i]["B_path"] for i in range(5)]
    assert partners == [ds[i]["B_path"] for i in range(5)]
    assert len({ds[0]["B_path"]} | {(ds.set_epoch(e), ds[0]["B_path"])[1] for e in range(1, 8)}) > 1
    assert ds[4]["A_path"] == str(domain_a[1])  # A cycles through its smaller domain


def test_empty_inputs_are_refused():
    with pytest.raises(ValueError, match="at least one image pair"):
        PairedDataset([], DataConfig())
    with pytest.raises(ValueError, match="both domains"):
        UnpairedDataset(["a.png"], [], DataConfig())
