"""Every registered family, from the command line: trained by gan-studio-train, its photos converted
by gan-studio-convert, and its generators exported to ONNX giving what conversion gives."""

import numpy as np
import pytest
import torch
from PIL import Image
from test_families import report_for, tiny

from training_core.cli import EXIT_OK, train_main
from training_core.cli_convert import convert_main
from training_core.cli_models import models_main
from training_core.families import FAMILIES, NAMES
from training_core.store import ModelLibrary


def _flags(settings: dict) -> list[str]:
    return [f"--{k.replace('_', '-')}={v}" for k, v in settings.items() if k != "crop_size"] + [
        f"--size={settings['crop_size']}"
    ]


@pytest.fixture(params=NAMES)
def trained(request, tmp_path):
    """A model of the family, trained from the command line for a few iterations."""
    name = request.param
    report = report_for(name, tmp_path / "data")
    flags = _flags(dict(tiny(name), iterations=3))
    assert train_main(["--data", str(report.root), "--family", name, "--name", name, "--device", "cpu", *flags]) == 0
    return name


def test_a_trained_model_of_every_family_converts_a_folder_from_the_command_line(tmp_path, trained):
    entry = ModelLibrary().get(trained)
    assert entry.state == "finished" and entry.record.family == trained
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i, (w, h) in enumerate([(50, 30), (36, 64)]):
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(photos / f"p{i}.png")
    for direction in FAMILIES[trained].directions:
        out = tmp_path / f"out-{direction}"
        args = ["--model", trained, "--input", str(photos), "--output", str(out), "--direction", direction]
        assert convert_main([*args, "--device", "cpu"]) == EXIT_OK
        assert Image.open(out / "p0.png").size == (50, 30) and Image.open(out / "p1.png").size == (36, 64)


def test_a_trained_model_of_every_family_exports_to_onnx_as_it_converts(tmp_path, trained):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from training_core.convert.model_file import load_generators
    from training_core.models.inference_norm import inference_copy

    entry = ModelLibrary().get(trained)
    _, generators = load_generators(entry.weights_path)
    assert set(generators) == set(FAMILIES[trained].directions)
    x = torch.rand(1, 3, 64, 96) * 2 - 1  # not the export's example size (a multiple of every generator's)
    for direction, generator in generators.items():
        out = tmp_path / f"{trained}-{direction}.onnx"
        assert models_main(["export", trained, "--onnx", str(out), "--direction", direction]) == EXIT_OK
        session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
        with torch.no_grad():
            expected = inference_copy(generator, entry.record.inference_norm)(x).numpy()
        got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
        assert np.abs(got - expected).max() < 1e-4
