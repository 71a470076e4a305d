import json

import numpy as np
from PIL import Image
from safetensors.torch import load_file

from training_core.cli import train_main


def test_demo_training_writes_samples_and_a_loadable_model(tmp_path):
    out = tmp_path / "run"
    code = train_main(["--demo", "--iterations", "4", "--sample-every", "2", "--ngf", "8", "--ndf", "8",
                       "--netG", "unet_32", "--preprocess", "crop", "--crop-size", "32", "--device", "cpu",
                       "--out", str(out)])
    assert code == 0
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["iter_000002.png", "iter_000004.png"]
    strip = Image.open(out / "samples" / "iter_000004.png")
    assert strip.size == (3 * 32, 32)  # input | output | target
    meta = json.loads((out / "model.json").read_text())
    assert meta["family"] == "pix2pix" and meta["iterations"] == 4 and meta["model"]["netG"] == "unet_32"
    weights = load_file(out / "generator.safetensors")
    assert weights and all(k.startswith("AtoB.") for k in weights)


def test_unpaired_folders_train_a_cyclegan(tmp_path):
    rng = np.random.default_rng(0)
    for domain in ("trainA", "trainB"):
        (tmp_path / "data" / domain).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(
                tmp_path / "data" / domain / f"{domain}{i}.png")
    out = tmp_path / "run"
    code = train_main([str(tmp_path / "data"), "--iterations", "2", "--netG", "resnet_1blocks", "--ngf", "4",
                       "--ndf", "4", "--preprocess", "crop", "--crop-size", "24", "--device", "cpu",
                       "--out", str(out)])
    assert code == 0
    assert json.loads((out / "model.json").read_text())["family"] == "cyclegan"
    assert {k.split(".")[0] for k in load_file(out / "generator.safetensors")} == {"AtoB", "BtoA"}


def test_errors_are_reported_not_raised(tmp_path, caplog):
    assert train_main([str(tmp_path / "missing")]) == 2
    assert "Dataset folder not found" in caplog.text
    assert train_main(["--demo", "--preprocess", "crop", "--crop-size", "100", "--iterations", "1"]) == 2
    assert "crop_size 100 is not a multiple of 128" in caplog.text
    assert train_main([]) == 2
    assert "--demo" in caplog.text
