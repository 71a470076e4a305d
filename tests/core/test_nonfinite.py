"""NaN and infinity never pass: not as a setting, not as trained weights, not in a model file."""

import math
import os
import subprocess
import sys

import pytest
import torch
from tiny import TINY_CLI, TINY_PIX2PIX, paired_report

from training_core import options
from training_core.cli import EXIT_USAGE, train_main
from training_core.config import Pix2PixConfig, TrainConfig
from training_core.convert.model_file import ModelFileError, load_generators
from training_core.errors import ConfigError
from training_core.store import ModelLibrary
from training_core.train.checkpoint import list_checkpoints
from training_core.train.events import Failed, StepMetrics
from training_core.train.trainer import Trainer

FLOAT_SETTINGS = [s for s in options.SETTINGS if s.type is float]
NOT_FINITE = [math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("setting", FLOAT_SETTINGS, ids=lambda s: s.name)
@pytest.mark.parametrize("value", NOT_FINITE, ids=str)
def test_every_float_setting_refuses_nan_and_infinity(setting, value):
    with pytest.raises(ConfigError, match=f"^{setting.name} must be a finite number"):
        setting.check(value)


def test_a_stored_record_with_nan_is_refused_like_the_cli(tmp_path):
    """model.json is JSON, and Python's JSON reads NaN and Infinity: the same check applies."""
    with pytest.raises(ConfigError, match="lambda_L1 must be a finite number"):
        Pix2PixConfig.from_json('{"lambda_L1": NaN}')
    with pytest.raises(ConfigError, match="val_fraction must be a finite number"):
        TrainConfig.from_json('{"val_fraction": Infinity}')


@pytest.mark.parametrize("flag", ["--lambda-L1", "--lambda-gp", "--momentum", "--lr", "--init-gain", "--beta1"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_the_cli_refuses_nan_in_a_float_setting_and_creates_nothing(tmp_path, caplog, flag, value):
    report = paired_report(tmp_path / "data")
    argv = ["--data", str(report.root), "--name", "n", "--iterations", "2", *TINY_CLI, "--device", "cpu"]
    assert train_main([*argv, f"{flag}={value}"]) == EXIT_USAGE
    name = flag[2:].replace("-", "_")
    assert f"{name} must be a finite number" in caplog.text and f"got {value}" in caplog.text
    assert ModelLibrary().list() == []


def test_the_real_cli_refuses_a_nan_learning_rate_without_a_traceback(tmp_path):
    report = paired_report(tmp_path / "data")
    code = "import sys; from training_core.cli import train_main; sys.exit(train_main(sys.argv[1:]))"
    argv = ["--data", str(report.root), "--name", "n", "--iterations", "2", *TINY_CLI, "--lr", "nan"]
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], env=dict(os.environ), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == EXIT_USAGE
    assert "lr must be a finite number in (0, 1), got nan" in done.stderr and "Traceback" not in done.stderr
    assert ModelLibrary().list() == []


def _poisoning_run(tmp_path, poison):
    """A tiny run checkpointed every 2 iterations whose model is damaged by ``poison`` at iteration 3."""
    report = paired_report(tmp_path / "data")
    trainer = None

    def at_three(event):
        if isinstance(event, StepMetrics) and event.iteration == 3:
            with torch.no_grad():
                poison(trainer.model)

    overrides = dict(TINY_PIX2PIX, iterations=12, checkpoint_every=2, sample_every=100)
    trainer = Trainer.create(report, "div", overrides=overrides, device="cpu", on_event=at_three)
    return trainer, trainer.run()


def _first_conv(model):
    return next(m for m in model.nets["G"].modules() if isinstance(m, torch.nn.Conv2d))


def _first_batch_norm(model):
    return next(m for m in model.nets["G"].modules() if isinstance(m, torch.nn.BatchNorm2d))


@pytest.mark.parametrize(
    "poison,what",
    [
        (lambda model: _first_conv(model).weight.fill_(math.nan), "losses"),  # the next step's losses are NaN
        (lambda model: _first_batch_norm(model).running_mean.fill_(math.inf), "weights"),  # the losses stay finite
    ],
    ids=["weights-and-losses", "statistics-only"],
)
def test_a_diverged_run_stops_with_advice_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, poison, what):
    import training_core.train.trainer as trainer_module

    monkeypatch.setattr(trainer_module, "REPORT_INTERVAL_S", 0.0)  # the losses are read after every step
    trainer, result = _poisoning_run(tmp_path, poison)
    assert isinstance(result, Failed) and result.iteration == 4
    assert f"the {what} became NaN or infinite" in result.message
    assert f"Lower the learning rate (lr, now {trainer.model_cfg.lr:g})" in result.message
    assert "last good checkpoint (iteration 2)" in result.message and "Traceback" not in result.message
    assert [p.name for p in list_checkpoints(trainer.entry.run_dir)] == ["iter_000000002.pt"]
    entry = ModelLibrary().get("div")
    assert entry.state == "failed" and entry.record.iterations == 2
    _, generators = load_generators(entry.weights_path)  # the saved generator is the good one
    assert all(torch.isfinite(v).all() for v in generators["AtoB"].state_dict().values() if v.is_floating_point())


@pytest.fixture
def model_file(tmp_path):
    report = paired_report(tmp_path / "data")
    trainer = Trainer.create(report, "m", overrides=dict(TINY_PIX2PIX, iterations=2), device="cpu")
    trainer.run()
    return trainer.entry.weights_path


def _rewrite(path, change):
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(path), "pt") as f:
        metadata, tensors = dict(f.metadata()), {k: f.get_tensor(k) for k in f.keys()}
    name = next(k for k in tensors if k.endswith(".weight") and tensors[k].dim() == 4)
    tensors[name] = change(tensors[name])
    save_file(tensors, str(path), metadata=metadata)
    return name


@pytest.mark.parametrize(
    "change,complaint",
    [
        (lambda t: t.clone().fill_(math.nan), "NaN or infinite"),
        (lambda t: torch.full_like(t, 1e300, dtype=torch.float64), "NaN or infinite"),  # infinite in float32
        (lambda t: t.view(torch.int32), "stored as int32"),  # the bits of floats, read as whole numbers
    ],
    ids=["nan", "float64-beyond-float32", "int32-bits"],
)
def test_conversion_refuses_a_generator_with_non_finite_or_mistyped_weights(model_file, change, complaint):
    name = _rewrite(model_file, change)
    with pytest.raises(ModelFileError) as refused:
        load_generators(model_file)
    message = str(refused.value)
    assert str(model_file) in message and complaint in message and name.split(".", 1)[1] in message


def test_the_convert_cli_names_the_model_file_with_non_finite_weights(model_file, tmp_path, caplog):
    from PIL import Image

    from training_core.cli_convert import convert_main

    _rewrite(model_file, lambda t: t.clone().fill_(math.inf))
    (tmp_path / "photos").mkdir()
    Image.new("RGB", (32, 32), "white").save(tmp_path / "photos" / "a.png")
    argv = ["--model", "m", "--input", str(tmp_path / "photos"), "--output", str(tmp_path / "out"), "--device", "cpu"]
    assert convert_main(argv) != 0
    assert str(model_file) in caplog.text and "NaN or infinite" in caplog.text and "Traceback" not in caplog.text
    assert not (tmp_path / "out" / "a.png").exists()
