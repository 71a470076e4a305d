"""A trained model whose checkpoints are gone never starts again from iteration 0 unless the user asks."""

import os
import shutil
import subprocess
import sys

import pytest
from tiny import TINY_CLI, TINY_PIX2PIX, paired_report

from training_core.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, train_main
from training_core.store import ModelLibrary
from training_core.train.checkpoint import list_checkpoints
from training_core.train.control import TrainingControl
from training_core.train.events import CheckpointSaved, Finished, StepMetrics
from training_core.train.restart import RestartRefused
from training_core.train.trainer import Trainer


def _trained(tmp_path, name="Ink", iterations=6, stop_at=None, **settings):
    """A tiny model trained to ``iterations`` (finished), or stopped at ``stop_at`` (paused)."""
    report = paired_report(tmp_path / "data")
    control = TrainingControl()

    def stop(event):
        if stop_at is not None and isinstance(event, StepMetrics) and event.iteration == stop_at:
            control.stop()

    overrides = dict(TINY_PIX2PIX, iterations=iterations, **settings)
    Trainer.create(report, name, overrides=overrides, device="cpu", control=control, on_event=stop).run()
    return ModelLibrary().get(name)


def _snapshot(entry):
    entry = ModelLibrary().get(entry.id)
    return entry.weights_path.read_bytes(), entry.state, entry.record.iterations


def _run_cli(*argv):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    code = "import sys; from training_core.cli import train_main; sys.exit(train_main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *argv], env=env, capture_output=True, text=True, timeout=300)


def test_deleted_checkpoints_are_refused_through_the_real_cli_and_the_generator_is_kept(tmp_path):
    entry = _trained(tmp_path)
    before = _snapshot(entry)
    shutil.rmtree(entry.run_dir / "checkpoints")
    done = _run_cli("--resume", "Ink", "--iterations", "25")
    assert done.returncode == EXIT_USAGE, done.stderr
    assert "Traceback" not in done.stderr and "iteration 0 of 25" not in done.stderr
    assert "trained 6 iterations" in done.stderr and "checkpoints" in done.stderr
    assert "gan-studio-train --restart Ink" in done.stderr
    assert _snapshot(entry) == before  # the generator, the state and the count are as they were
    assert ModelLibrary().get("Ink").record.total_iterations == 6  # the refused --iterations changed nothing


def test_a_paused_model_without_checkpoints_is_refused(tmp_path, caplog):
    entry = _trained(tmp_path, iterations=100, stop_at=3)
    assert entry.state == "paused" and entry.record.iterations == 3
    before = _snapshot(entry)
    for checkpoint in list_checkpoints(entry.run_dir):
        checkpoint.unlink()
    assert train_main(["--resume", "Ink", "--device", "cpu"]) == EXIT_USAGE
    assert "trained 3 iterations" in caplog.text and "--restart" in caplog.text
    assert _snapshot(entry) == before


def test_a_missing_run_folder_gives_the_same_clear_message(tmp_path, caplog):
    entry = _trained(tmp_path)
    before = _snapshot(entry)
    shutil.rmtree(entry.run_dir)
    assert train_main(["--resume", "Ink", "--device", "cpu"]) == EXIT_USAGE
    assert "Traceback" not in caplog.text
    assert f"{entry.run_dir} is missing" in caplog.text and "gan-studio-train --restart Ink" in caplog.text
    assert _snapshot(entry) == before
    assert not entry.run_dir.exists()  # refusing creates nothing


def test_every_checkpoint_damaged_says_none_is_usable_and_offers_only_the_restart(tmp_path, caplog):
    entry = _trained(tmp_path, iterations=100, stop_at=3)
    before = _snapshot(entry)
    for checkpoint in list_checkpoints(entry.run_dir):
        with open(checkpoint, "r+b") as f:
            f.truncate(1000)
    assert train_main(["--resume", "Ink", "--device", "cpu"]) != EXIT_OK
    assert "no usable checkpoint" in caplog.text and "gan-studio-train --restart Ink" in caplog.text
    assert "--resume" not in caplog.text  # resuming is what just failed
    assert _snapshot(entry) == before  # not even the state: the model is as it was


def test_restart_trains_from_zero_and_keeps_the_old_generator_until_its_first_checkpoint(tmp_path):
    entry = _trained(tmp_path, checkpoint_every=4)
    old_weights, *_ = _snapshot(entry)
    for checkpoint in list_checkpoints(entry.run_dir):  # damaged: set aside, never pruned in the new run's place
        with open(checkpoint, "r+b") as f:
            f.truncate(1000)
    seen = []

    def watch(event):
        if isinstance(event, StepMetrics) and event.iteration == 3:
            seen.append(("before its first checkpoint", entry.weights_path.read_bytes() == old_weights))
        if isinstance(event, CheckpointSaved):
            seen.append(("at a checkpoint", entry.weights_path.read_bytes() == old_weights))

    result = Trainer.reopen("Ink", iterations=8, restart=True, device="cpu", on_event=watch).run()
    assert isinstance(result, Finished) and result.completed and result.iteration == 8
    assert seen[0] == ("before its first checkpoint", True) and seen[1] == ("at a checkpoint", False)
    finished = ModelLibrary().get("Ink")
    assert finished.state == "finished" and finished.record.iterations == 8
    assert [p.name for p in list_checkpoints(entry.run_dir)] == ["iter_000000008.pt", "iter_000000004.pt"]
    assert sorted(p.name for p in (entry.run_dir / "checkpoints").glob("*.damaged")) == [
        "iter_000000004.pt.damaged",
        "iter_000000006.pt.damaged",
    ]


def test_restart_of_a_model_without_its_run_folder_plans_again_from_its_dataset(tmp_path, caplog):
    entry = _trained(tmp_path)
    shutil.rmtree(entry.run_dir)
    assert train_main(["--restart", "Ink", "--device", "cpu"]) == EXIT_OK
    finished = ModelLibrary().get("Ink")
    assert finished.state == "finished" and finished.record.iterations == 6
    assert (entry.run_dir / "dataset.json").is_file() and list_checkpoints(entry.run_dir)


def test_restart_is_refused_while_a_checkpoint_can_continue_the_model(tmp_path, caplog):
    entry = _trained(tmp_path, iterations=100, stop_at=3)
    before = _snapshot(entry)
    with pytest.raises(RestartRefused, match="can continue from iteration 3") as refused:
        Trainer.reopen("Ink", restart=True, device="cpu")  # refused as a request: no run to lock or change
    assert "gan-studio-train --resume Ink" in str(refused.value)
    assert _snapshot(entry) == before


@pytest.mark.parametrize(
    "argv,complaint",
    [
        (["--restart", "Ink", "--resume", "Ink"], "--restart trains a model again from scratch"),
        (["--restart", "Ink", "--data", "x"], "--restart trains a model again from scratch"),
    ],
)
def test_restart_with_another_source_is_refused(tmp_path, caplog, argv, complaint):
    assert train_main(argv) == EXIT_USAGE
    assert complaint in caplog.text


@pytest.mark.parametrize("damage", ["{not json", '{"layout": 5, "unknown": 1}', "[]"])
def test_a_damaged_data_plan_is_refused_clearly_and_a_restart_plans_again(tmp_path, caplog, damage):
    entry = _trained(tmp_path)
    before = _snapshot(entry)
    plan = entry.run_dir / "dataset.json"
    plan.write_text(damage)
    assert train_main(["--resume", "Ink", "--device", "cpu"]) == EXIT_USAGE
    assert f"{plan} cannot be read" in caplog.text and "--restart Ink" in caplog.text
    assert "Traceback" not in caplog.text and _snapshot(entry) == before
    assert train_main(["--restart", "Ink", "--device", "cpu"]) == EXIT_OK
    assert (entry.run_dir / "dataset.json.damaged").read_text() == damage  # set aside, not overwritten
    assert ModelLibrary().get("Ink").state == "finished"


def test_restart_of_a_model_that_can_resume_is_a_usage_refusal_that_changes_nothing(tmp_path, caplog):
    entry = _trained(tmp_path, iterations=100, stop_at=3)
    before = _snapshot(entry)
    assert train_main(["--restart", "Ink", "--device", "cpu"]) == EXIT_USAGE  # the command was wrong, not the run
    assert "can continue from iteration 3" in caplog.text and "gan-studio-train --resume Ink" in caplog.text
    assert "to continue from the last checkpoint" not in caplog.text  # said once, in the refusal
    assert _snapshot(entry) == before
    assert not list((entry.run_dir / "checkpoints").glob("*.damaged"))  # nothing set aside


@pytest.mark.parametrize("rank", ["0", "1"])
def test_restart_under_torchrun_is_refused_before_any_process_plans_or_waits(tmp_path, caplog, monkeypatch, rank):
    """Only one process may plan the data again; refused on every rank, before the process group forms."""
    entry = _trained(tmp_path)
    shutil.rmtree(entry.run_dir / "checkpoints")
    before = _snapshot(entry)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", rank)
    monkeypatch.delenv("MASTER_ADDR", raising=False)  # a process group could not form: the refusal comes first
    assert train_main(["--restart", "Ink", "--device", "cpu"]) == EXIT_USAGE
    assert "without torchrun" in caplog.text and "gan-studio-train --restart Ink" in caplog.text
    assert "--resume Ink" in caplog.text and "Traceback" not in caplog.text
    assert _snapshot(entry) == before and not (entry.run_dir / "checkpoints").exists()


def test_a_diverged_run_offers_no_resume_that_would_take_the_same_steps_again(tmp_path, caplog, monkeypatch):
    import math

    import torch

    import training_core.train.trainer as trainer_module

    monkeypatch.setattr(trainer_module, "REPORT_INTERVAL_S", 0.0)  # the losses are read after every step
    after_step = Trainer._after_step

    def poisoned_at_three(self, losses):
        if self.iteration == 3:
            with torch.no_grad():
                next(m for m in self.model.nets["G"].modules() if isinstance(m, torch.nn.Conv2d)).weight.fill_(math.nan)
        after_step(self, losses)

    monkeypatch.setattr(Trainer, "_after_step", poisoned_at_three)
    report = paired_report(tmp_path / "data")
    argv = ["--data", str(report.root), "--name", "div", "--iterations", "12", "--checkpoint-every", "2"]
    assert train_main([*argv, *TINY_CLI, "--device", "cpu"]) == EXIT_FAILED
    assert "NaN or infinite" in caplog.text and "in a new model with the same data" in caplog.text
    assert "--resume" not in caplog.text and "--restart" not in caplog.text  # both would repeat the same steps
    assert ModelLibrary().get("div").state == "failed"
