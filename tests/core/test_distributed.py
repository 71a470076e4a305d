"""The same training under torch.distributed: two CPU processes with gloo."""

import socket

import ddp_worker
import pytest
import torch
import torch.multiprocessing as mp
from tiny import TINY_CLI, paired_report

from training_core.data.demo import make_demo_dataset
from training_core.data.discover import discover
from training_core.store import ModelLibrary
from training_core.train.trainer import Trainer

# Instance norm, no dropout and no augmentation of the discriminator's inputs (drawn per process): then
# two processes with batch 1 compute what one with batch 2 does.
SETTINGS = dict(
    diff_augment="none",
    netG="unet_32",
    ngf=8,
    ndf=8,
    preprocess="crop",
    crop_size=32,
    norm="instance",
    dropout=False,
    sample_every=1000,
    checkpoint_every=1000,
    precision="fp32",
    num_workers=0,
)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp(tmp_path, report, name, iterations, resume=False, **settings):
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    overrides = dict(SETTINGS, iterations=iterations, batch_size=1, **settings)
    mp.spawn(
        ddp_worker.train,
        nprocs=2,
        join=True,
        args=(2, _port(), str(tmp_path / "gan-studio-home"), str(report.root), name, overrides, str(out), resume),
    )
    return [torch.load(out / f"{name}-rank{r}.pt", weights_only=True) for r in (0, 1)]


def _relative(a: dict, b: dict) -> float:
    """Sum of absolute weight differences relative to the weights' size."""
    return sum((a[k].float() - b[k].float()).abs().sum().item() for k in a) / sum(
        b[k].float().abs().sum().item() for k in a
    )


@pytest.mark.skipif(not torch.distributed.is_available(), reason="this torch has no torch.distributed")
def test_two_processes_agree_with_each_other_and_with_one_process_at_the_same_global_batch(tmp_path):
    report = discover(make_demo_dataset(tmp_path / "data", train=12, val=2, size=64))
    ranks = _ddp(tmp_path, report, "ddp", iterations=4, crop_size=64)
    assert ranks[0]["iteration"] == ranks[1]["iteration"] == 4
    for net in ("G", "D"):  # DDP keeps every process's copy identical
        assert all(
            torch.equal(ranks[0]["weights"][net][k], ranks[1]["weights"][net][k]) for k in ranks[0]["weights"][net]
        )

    def single(batch_size):
        trainer = Trainer.create(
            report,
            f"single-{batch_size}",
            overrides=dict(SETTINGS, iterations=4, batch_size=batch_size, crop_size=64),
            library=ModelLibrary(),
            device="cpu",
        )
        trainer.run()
        return trainer.model.plain("G").state_dict()

    # Float sums in another order differ in the last bits, and Adam magnifies that for weights whose
    # gradients are near zero; so compare in relative terms, against a run that differs for real.
    # At 64 px the U-Net's innermost map is 2x2: at 32 px it is 1x1, where instance norm makes
    # the gradient pure rounding noise, which Adam turns into full steps (2.3e-3 apart with the
    # small-map kernels' other order of sums, against 4.8e-5 here with either kernel).
    ddp = ranks[0]["weights"]["G"]
    same_batch, other_batch = _relative(ddp, single(2)), _relative(ddp, single(1))
    assert same_batch < 1e-3 and same_batch < 0.1 * other_batch, (same_batch, other_batch)
    assert ModelLibrary().get("ddp").record.iterations == 4  # rank 0 kept the library entry


def test_a_ddp_checkpoint_resumes_in_one_process_and_back(tmp_path):
    report = paired_report(tmp_path / "data")
    _ddp(tmp_path, report, "hop", iterations=2)
    library = ModelLibrary()
    assert Trainer.reopen("hop", library=library, iterations=4, device="cpu").run().completed
    assert library.get("hop").record.iterations == 4
    ranks = _ddp(tmp_path, report, "hop", iterations=6, resume=True)
    assert ranks[0]["iteration"] == 6 and library.get("hop").record.iterations == 6


def test_gan_studio_train_runs_under_torchrun(tmp_path):
    import os
    import subprocess
    import sys

    report = paired_report(tmp_path / "data")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "training_core.cli",
        "--data",
        str(report.root),
        "--name",
        "torchrun",
        "--iterations",
        "3",
        *TINY_CLI,
        "--norm",
        "instance",
        "--no-dropout",
        "--device",
        "cpu",
        "--sample-every",
        "3",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    entry = ModelLibrary().get("torchrun")
    assert entry.state == "finished" and entry.record.iterations == 3
    assert "distributed over 2 processes: batch 1 each, effective batch 2" in result.stderr
