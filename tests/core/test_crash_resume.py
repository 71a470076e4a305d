"""Real processes killed at the worst moments resume from the last good checkpoint."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch
from tiny import TINY_CLI, paired_report

from training_core.cli import EXIT_OK, EXIT_PAUSED, train_main
from training_core.store import ModelLibrary
from training_core.train.checkpoint import list_checkpoints, read_checkpoint

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses POSIX signals")

ARGS = [
    *TINY_CLI,
    "--device",
    "cpu",
    "--sample-every",
    "1000",
    "--checkpoint-every",
    "5",
    # A constant rate: the runs below are resumed with a shorter length than they started with, and
    # an uninterrupted run of that length must then be the same schedule.
    "--lr-policy",
    "constant",
    "--iterations",
    "100000",
]
LAUNCH = "import sys; from training_core.cli import train_main; sys.exit(train_main(sys.argv[1:]))"


def _start(code: str, args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_checkpoints(run_dir, count: int, proc: subprocess.Popen, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(list_checkpoints(run_dir)) >= count:
            return
        if proc.poll() is not None:
            pytest.fail(f"training ended early:\n{proc.stdout.read()}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail("no checkpoint appeared in time")


def _final_state(name: str) -> dict[str, torch.Tensor]:
    """Every network's weights and every optimizer's state in a model's last checkpoint, by name."""
    run_dir = ModelLibrary().root / name / "run"
    model = read_checkpoint(list_checkpoints(run_dir)[0])["model"]
    flat = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}", item)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                walk(f"{prefix}.{index}", item)
        elif isinstance(value, torch.Tensor):
            flat[prefix] = value

    walk("", {"nets": model["nets"], "optimizers": model["optimizers"]})
    return flat


def _assert_same_as_an_uninterrupted_run(report, name: str, iterations: int) -> None:
    """The resumed model's weights are bit for bit those of a run that never stopped (on the CPU).

    The uninterrupted run trains in this process, the killed one trained in another: only its
    checkpoint carries its random state and its place in the data across."""
    assert train_main(["--data", str(report.root), "--name", "straight", *ARGS[:-1], str(iterations)]) == EXIT_OK
    resumed, straight = _final_state(name), _final_state("straight")
    assert resumed.keys() == straight.keys() and resumed
    assert [k for k in resumed if not torch.equal(resumed[k], straight[k])] == []


def test_sigkill_during_training_resumes_from_the_last_checkpoint(tmp_path):
    report = paired_report(tmp_path / "data")
    proc = _start(LAUNCH, ["--data", str(report.root), "--name", "k", *ARGS])
    run_dir = ModelLibrary().root / "k" / "run"
    _wait_for_checkpoints(run_dir, 2, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert ModelLibrary().get("k").state == "interrupted"
    last = int(list_checkpoints(run_dir)[0].stem.split("_")[1])
    assert train_main(["--resume", "k", "--iterations", str(last + 3)]) == EXIT_OK
    entry = ModelLibrary().get("k")
    assert entry.state == "finished" and entry.record.iterations == last + 3
    _assert_same_as_an_uninterrupted_run(report, "k", last + 3)


def test_sigkill_while_writing_a_checkpoint_leaves_the_previous_one_valid(tmp_path):
    report = paired_report(tmp_path / "data")
    # The second checkpoint write dies half-way through, as if the power went out.
    dying_save = (
        textwrap.dedent("""
        import io, os, signal, sys, torch
        real_save, calls = torch.save, []
        def save(obj, f, *a, **k):
            calls.append(1)
            if len(calls) < 2:
                return real_save(obj, f, *a, **k)
            buffer = io.BytesIO()
            real_save(obj, buffer)
            with open(f, "wb") as out:
                out.write(buffer.getvalue()[: buffer.tell() // 2])
                out.flush()
                os.fsync(out.fileno())
            os.kill(os.getpid(), signal.SIGKILL)
        torch.save = save
    """)
        + LAUNCH
    )
    proc = _start(dying_save, ["--data", str(report.root), "--name", "w", *ARGS])
    assert proc.wait(timeout=120) == -signal.SIGKILL, proc.stdout.read()
    run_dir = ModelLibrary().root / "w" / "run"
    assert [p.name for p in list_checkpoints(run_dir)] == ["iter_000000005.pt"]
    assert list((run_dir / "checkpoints").glob(".iter_000000010.pt.*.tmp"))  # the torn write, not mistaken
    assert train_main(["--resume", "w", "--iterations", "8"]) == EXIT_OK
    assert ModelLibrary().get("w").record.iterations == 8
    assert not list((run_dir / "checkpoints").glob(".*.tmp"))  # cleaned up by the next save
    _assert_same_as_an_uninterrupted_run(report, "w", 8)


def test_ctrl_c_pauses_with_a_checkpoint_and_says_how_to_resume(tmp_path):
    report = paired_report(tmp_path / "data")
    proc = _start(LAUNCH, ["--data", str(report.root), "--name", "c", *ARGS])
    run_dir = ModelLibrary().root / "c" / "run"
    _wait_for_checkpoints(run_dir, 1, proc)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == EXIT_PAUSED
    output = proc.stdout.read()
    assert "gan-studio-train --resume c" in output
    entry = ModelLibrary().get("c")
    assert entry.state == "paused"
    assert int(list_checkpoints(run_dir)[0].stem.split("_")[1]) == entry.record.iterations


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize("signals", [("SIGTERM",), ("SIGHUP",), ("SIGTERM", "SIGINT", "SIGHUP")])
def test_termination_and_hangup_pause_like_ctrl_c_and_a_second_signal_waits_for_the_save(tmp_path, signals):
    report = paired_report(tmp_path / "data")
    proc = _start(LAUNCH, ["--data", str(report.root), "--name", "t", *ARGS])
    run_dir = ModelLibrary().root / "t" / "run"
    _wait_for_checkpoints(run_dir, 1, proc)
    for name in signals:  # a shutdown, then the impatient
        proc.send_signal(getattr(signal, name))
    assert proc.wait(timeout=60) == EXIT_PAUSED
    output = proc.stdout.read()
    assert "Traceback" not in output and "KeyboardInterrupt" not in output
    entry = ModelLibrary().get("t")
    assert entry.state == "paused"
    assert int(list_checkpoints(run_dir)[0].stem.split("_")[1]) == entry.record.iterations


@pytest.mark.parametrize("attempt", [1, 2])
def test_a_kill_the_moment_a_model_appears_leaves_it_resumable(tmp_path, attempt):
    """SIGKILL as soon as model.json is visible: the model is complete (its data plan is there) or absent."""
    report = paired_report(tmp_path / "data")
    library = ModelLibrary()
    proc = _start(LAUNCH, ["--data", str(report.root), "--name", "early", *ARGS])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if library.root.is_dir() and any(library.root.glob("[!.]*/model.json")):
            break
        time.sleep(0.001)
    proc.kill()
    proc.wait(timeout=30)
    entries = [e for e in library.list()]
    assert len(entries) <= 1 and all(e.state != "damaged" for e in entries)
    if entries:
        assert (entries[0].run_dir / "dataset.json").is_file()
        assert train_main(["--resume", "early", "--iterations", "2"]) == EXIT_OK
    else:
        assert train_main(["--data", str(report.root), "--name", "early", *ARGS[:-1], "2"]) == EXIT_OK


def test_an_unfinished_creation_is_invisible_and_cleaned_up(tmp_path):
    from training_core import store

    library = ModelLibrary()
    library.create("whole", {"family": "pix2pix"})
    staging = library.root / f"{store.STAGING_PREFIX}abc123"
    (staging / "run").mkdir(parents=True)
    (staging / "model.json").write_text('{"name": "half", "family": "pix2pix"}')
    old = time.time() - 3600
    os.utime(staging, (old, old))
    store._tidied.clear()
    assert [e.name for e in library.list()] == ["whole"]
    assert not staging.exists()
