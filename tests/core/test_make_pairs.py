"""A dataset from one folder of artworks: detected as paired, artworks never written, every file accounted for."""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_pair_makers import artwork

from training_core.cli_dataset import dataset_main
from training_core.data.discover import PAIRED, discover
from training_core.data.make_pairs import MANIFEST, REPORT, make_pairs, read_manifest, split_of
from training_core.data.pair_makers import PairSettings, make_input
from training_core.errors import DatasetError


def _artworks(folder, count=12, size=(96, 72)):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        artwork(seed=i, size=size).save(folder / f"piece {i:02d}.jpg", quality=95)
    return folder


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("kind", ["lines", "grey", "flat", "blur"])
def test_a_folder_of_artworks_becomes_a_paired_dataset_that_is_detected_as_such(tmp_path, kind):
    src = _artworks(tmp_path / "art")
    before = _digests(src)
    report = make_pairs(src, tmp_path / "pairs", PairSettings(kind=kind), val_percent=25)
    assert _digests(src) == before  # artworks only read
    assert len(report.used) == 12 and not report.rejected
    found = discover(tmp_path / "pairs")
    assert found.layout == PAIRED
    assert found.count() == 12 and not found.rejected
    assert found.count("val") == sum(split_of(n, 25) == "val" for n in report.used) > 0
    name = "piece 03.jpg"
    split = report.used[name]
    target = Image.open(tmp_path / "pairs" / "B" / split / f"{name}.png")
    made = Image.open(tmp_path / "pairs" / "A" / split / f"{name}.png")
    assert target.size == made.size == (96, 72)
    # The A side is exactly the pair maker's result on the B side.
    assert np.array_equal(np.asarray(make_input(target.convert("RGB"), PairSettings(kind=kind))), np.asarray(made))
    manifest = read_manifest(tmp_path / "pairs")
    assert manifest["settings"] == PairSettings(kind=kind).own() and len(manifest["pairs"]) == 12
    assert "12 pairs" in (tmp_path / "pairs" / REPORT).read_text()


def test_broken_and_foreign_files_are_listed_and_skipped(tmp_path):
    src = _artworks(tmp_path / "art", count=3)
    (src / "empty.png").write_bytes(b"")
    (src / "notes.jpg").write_text("not an image")
    good = (src / "piece 00.jpg").read_bytes()
    (src / "cut.jpg").write_bytes(good[: len(good) // 3])
    Image.new("RGB", (8, 8)).save(src / "tiny.png")
    (src / "alpha.png").write_bytes(b"")
    Image.fromarray(np.zeros((64, 64, 4), np.uint8)).save(src / "alpha.png")  # transparent: still an artwork
    report = make_pairs(src, tmp_path / "pairs", PairSettings(kind="grey"))
    assert set(report.used) == {"piece 00.jpg", "piece 01.jpg", "piece 02.jpg", "alpha.png"}
    assert set(report.rejected) == {"empty.png", "notes.jpg", "cut.jpg", "tiny.png"}
    assert report.rejected["tiny.png"].startswith("too small")
    assert "NOT USED  cut.jpg: truncated" in (tmp_path / "pairs" / REPORT).read_text()


def test_an_empty_folder_or_one_without_a_usable_artwork_is_refused_and_nothing_is_written(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="holds no image"):
        make_pairs(tmp_path / "empty", tmp_path / "pairs", PairSettings())
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "a.png").write_bytes(b"\x89PNG\r\n")
    with pytest.raises(DatasetError, match="no artwork in .* could be used: a.png"):
        make_pairs(tmp_path / "broken", tmp_path / "pairs", PairSettings())
    assert not (tmp_path / "pairs").exists()


@pytest.mark.parametrize("where", ["same", "inside", "above"])
def test_an_output_folder_that_is_the_artworks_or_inside_them_is_refused(tmp_path, where):
    src = _artworks(tmp_path / "art", count=2)
    before = _digests(tmp_path)
    output = {"same": src, "inside": src / "pairs", "above": tmp_path}[where]
    with pytest.raises(DatasetError, match="artworks' folder"):
        make_pairs(src, output, PairSettings())
    assert _digests(tmp_path) == before


def test_a_folder_holding_other_files_is_refused(tmp_path):
    src = _artworks(tmp_path / "art", count=2)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.docx").write_text("keep me")
    with pytest.raises(DatasetError, match="already holds files that GAN Studio did not make"):
        make_pairs(src, tmp_path / "mine", PairSettings())


def test_a_rerun_replaces_only_what_it_made_and_follows_the_folder(tmp_path):
    src = _artworks(tmp_path / "art", count=4)
    out = tmp_path / "pairs"
    make_pairs(src, out, PairSettings(kind="lines"), val_percent=0)
    (src / "piece 01.jpg").unlink()  # an artwork taken out
    report = make_pairs(src, out, PairSettings(kind="blur"), val_percent=0)
    assert len(report.used) == 3
    assert sorted(p.name for p in (out / "A" / "train").iterdir()) == [
        "piece 00.jpg.png",
        "piece 02.jpg.png",
        "piece 03.jpg.png",
    ]
    assert read_manifest(out)["settings"]["kind"] == "blur"


def test_a_damaged_manifest_never_leads_outside_the_dataset(tmp_path):
    src = _artworks(tmp_path / "art", count=2)
    out = tmp_path / "pairs"
    make_pairs(src, out, PairSettings(kind="grey"), val_percent=0)
    victim = tmp_path / "victim.png"
    victim.write_bytes(b"precious")
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["pairs"]["../../victim.png"] = {"artwork": "x", "split": "train"}
    manifest["pairs"]["y.png"] = {"artwork": "y", "split": "../.."}
    (out / MANIFEST).write_text(json.dumps(manifest))
    make_pairs(src, out, PairSettings(kind="grey"), val_percent=0)
    assert victim.read_bytes() == b"precious"


def test_a_huge_artwork_is_made_at_the_chosen_working_size(tmp_path):
    src = tmp_path / "art"
    src.mkdir()
    artwork(size=(2400, 600)).save(src / "banner.png")
    report = make_pairs(src, tmp_path / "pairs", PairSettings(kind="grey", working_side=800), val_percent=0)
    assert report.used == {"banner.png": "train"}
    assert Image.open(tmp_path / "pairs" / "B" / "train" / "banner.png").size == (800, 200)


def test_the_command_line_makes_the_dataset_and_refuses_bad_folders_with_exit_2(tmp_path, caplog):
    caplog.set_level("INFO")
    src = _artworks(tmp_path / "art", count=3)
    code = dataset_main(["make-pairs", str(src), "--kind", "flat", "--colours", "4", "--output", str(tmp_path / "p")])
    assert code == 0
    assert read_manifest(tmp_path / "p")["settings"] == {"kind": "flat", "colours": 4, "working_side": 1024}
    assert "3 pairs" in caplog.text and "gan-studio-train --data" in caplog.text
    assert dataset_main(["make-pairs", str(src), "--output", str(src / "inside")]) == 2
    assert "is the artworks' folder or inside it" in caplog.text
    assert dataset_main(["make-pairs", str(src), "--output", str(tmp_path / "q"), "--detail", "11"]) == 2
    assert "detail must be a whole number from 1 to 10" in caplog.text
    assert not (tmp_path / "q").exists() and not (src / "inside").exists()
    assert sorted(os.listdir(src)) == [f"piece {i:02d}.jpg" for i in range(3)]


# -- converting photos through the same path ----------------------------------------------------------


@pytest.fixture
def lines_model(tmp_path):
    """A generator in the library whose record says its pairs were made as lines, detail 4."""
    import torch
    from reference_nets import ResnetGenerator, get_norm_layer, randomize

    from training_core.library_import import import_reference
    from training_core.store import ModelLibrary

    net = randomize(ResnetGenerator(3, 3, 8, get_norm_layer("instance"), n_blocks=1))
    torch.save(net.state_dict(), tmp_path / "ink.pth")
    library = ModelLibrary()
    entry = import_reference([tmp_path / "ink.pth"], "ink", library)
    made = PairSettings(kind="lines", detail=4).own()
    library.update(entry, dataset={**entry.record.dataset, "pair_maker": made})
    return library.get("ink")


def test_prepare_input_gives_the_pixels_of_preparing_then_converting(tmp_path, lines_model):
    from training_core.config import ConvertConfig
    from training_core.convert.batch import BatchJob
    from training_core.convert.model_file import translator_for_model

    photos = _artworks(tmp_path / "photos", count=2, size=(120, 80))
    prepared_by_hand = tmp_path / "prepared"
    prepared_by_hand.mkdir()
    for photo in photos.iterdir():
        made = make_input(Image.open(photo).convert("RGB"), PairSettings(kind="lines", detail=4))
        made.save(prepared_by_hand / photo.name.replace(".jpg", ".png"))
    plain = ConvertConfig(format="png", precision="fp32")
    with BatchJob(translator_for_model(lines_model, config=plain), prepared_by_hand, tmp_path / "a", plain) as job:
        job.run()
    prepare = ConvertConfig(format="png", precision="fp32", prepare_input=True)
    translator = translator_for_model(lines_model, config=prepare)
    with BatchJob(translator, photos, tmp_path / "b", prepare, model_id="ink") as job:
        report = job.run()
    assert report.counts() == {"converted": 2}
    for photo in photos.iterdir():
        a = np.asarray(Image.open(tmp_path / "a" / photo.name.replace(".jpg", ".png")))
        b = np.asarray(Image.open(tmp_path / "b" / f"{photo.name}.png"))
        assert np.array_equal(a, b)
    assert translator.pixel_settings()["prepare_input"] == json.dumps(
        PairSettings(kind="lines", detail=4).own(), sort_keys=True
    )


def test_prepare_input_with_a_model_not_trained_on_made_pairs_is_refused(tmp_path, lines_model, caplog):
    from training_core.cli_convert import convert_main
    from training_core.store import ModelLibrary

    library = ModelLibrary()
    library.update(lines_model, dataset={})
    photos = _artworks(tmp_path / "photos", count=1)
    args = ["--model", "ink", "--input", str(photos), "--output", str(tmp_path / "out"), "--prepare-input"]
    assert convert_main(args) == 2
    assert "was not trained on pairs made from artworks" in caplog.text
    assert not (tmp_path / "out").exists()


def test_a_model_trained_on_made_pairs_records_how_they_were_made(tmp_path):
    from tiny import TINY_PIX2PIX

    from training_core.store import ModelLibrary
    from training_core.train.events import Finished
    from training_core.train.trainer import Trainer

    src = _artworks(tmp_path / "art", count=6)
    made = PairSettings(kind="flat", colours=6)
    make_pairs(src, tmp_path / "pairs", made, val_percent=20)
    trainer = Trainer.create(
        discover(tmp_path / "pairs"),
        "flats",
        overrides=dict(TINY_PIX2PIX, iterations=2),
        library=ModelLibrary(),
        device="cpu",
    )
    assert isinstance(trainer.run(), Finished)
    assert ModelLibrary().get("flats").record.dataset["pair_maker"] == made.own()


SHARED_PHOTOS = Path(__file__).parents[2].parent / "shared" / "photos"


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_PHOTOS.is_dir(), reason=f"shared photos not found at {SHARED_PHOTOS}")
@pytest.mark.parametrize("kind", ["lines", "grey", "flat", "blur"])
def test_each_kind_made_from_real_photos_trains_with_the_quick_preset_and_converts(tmp_path, kind):
    """The real photos of mixed sizes as artworks: a dataset, a quick-preset run, then photos converted
    through the same pair maker."""
    from training_core.config import ConvertConfig
    from training_core.convert.batch import BatchJob
    from training_core.convert.model_file import translator_for_model
    from training_core.store import ModelLibrary
    from training_core.train.events import Finished
    from training_core.train.trainer import Trainer

    report = make_pairs(SHARED_PHOTOS, tmp_path / "pairs", PairSettings(kind=kind, working_side=512), val_percent=25)
    photos = [p for p in SHARED_PHOTOS.iterdir() if p.suffix.lower() in (".png", ".jpg")]
    assert len(report.used) == len(photos) and not report.rejected
    found = discover(tmp_path / "pairs")
    assert found.layout == PAIRED and found.count() == len(photos)
    trainer = Trainer.create(found, kind, preset="quick", overrides=dict(iterations=6), device="cpu")
    assert isinstance(trainer.run(), Finished)
    entry = ModelLibrary().get(kind)
    assert entry.record.dataset["pair_maker"]["kind"] == kind
    config = ConvertConfig(prepare_input=True, scale="0.25")
    with BatchJob(translator_for_model(entry, config=config), SHARED_PHOTOS, tmp_path / "out", config) as job:
        converted = job.run()
    assert converted.counts().get("converted") == len(photos)
    for photo in photos:
        assert Image.open(tmp_path / "out" / photo.name).size == Image.open(photo).size
