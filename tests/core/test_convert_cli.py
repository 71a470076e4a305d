import numpy as np
import pytest
import torch
from PIL import Image
from reference_nets import ResnetGenerator, get_norm_layer, randomize

from training_core.cli_convert import convert_main
from training_core.cli_models import models_main


@pytest.fixture
def imported_model(tmp_path):
    net = randomize(ResnetGenerator(3, 3, 8, get_norm_layer("instance"), n_blocks=2))
    torch.save(net.state_dict(), tmp_path / "latest_net_G.pth")
    assert models_main(["import", str(tmp_path / "latest_net_G.pth"), "--name", "ink"]) == 0
    return net


def test_convert_a_folder_from_the_command_line(tmp_path, imported_model, caplog):
    caplog.set_level("INFO")
    src = tmp_path / "photos"
    src.mkdir()
    rng = np.random.default_rng(0)
    for i, size in enumerate([(50, 30), (17, 90)]):
        Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(src / f"p{i}.png")
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff")
    code = convert_main(["--model", "ink", "--input", str(src), "--output", str(tmp_path / "out"), "--device", "cpu"])
    assert code == 1  # a file failed: scripts can tell
    assert Image.open(tmp_path / "out" / "p1.png").size == (17, 90)
    assert "broken.jpg" in (tmp_path / "out" / "gan-studio-report.txt").read_text()
    (src / "broken.jpg").unlink()
    assert convert_main(["--model", "ink", "--input", str(src), "--output", str(tmp_path / "out")]) == 0
    assert "2 skipped" in caplog.text


@pytest.mark.parametrize(
    "args,message",
    [
        (["--model", "nope"], "no model named 'nope'"),
        (["--model", "ink", "--scale", "huge"], "scale 'huge' is not valid"),
        (["--model", "ink", "--tile", "big"], "--tile must be a number"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(tmp_path, imported_model, caplog, args, message):
    (tmp_path / "in").mkdir()
    assert convert_main([*args, "--input", str(tmp_path / "in"), "--output", str(tmp_path / "out")]) == 2
    assert message in caplog.text


def test_same_input_and_output_is_refused(tmp_path, imported_model, caplog):
    (tmp_path / "in").mkdir()
    assert convert_main(["--model", "ink", "--input", str(tmp_path / "in"), "--output", str(tmp_path / "in")]) == 2
    assert "output folder is the input folder" in caplog.text


def test_onnx_export_matches_the_app(tmp_path, imported_model):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from training_core.convert.model_file import load_generators
    from training_core.models.inference_norm import inference_copy
    from training_core.store import ModelLibrary

    out = tmp_path / "ink.onnx"
    assert models_main(["export", "ink", "--onnx", str(out)]) == 0
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = torch.rand(1, 3, 48, 80) * 2 - 1  # not the export's example size
    _, generators = load_generators(ModelLibrary().get("ink").weights_path)
    with torch.no_grad():
        expected = inference_copy(generators["AtoB"], "running")(x).numpy()
    got = session.run(None, {"input": x.numpy()})[0]
    assert np.abs(got - expected).max() < 1e-4
