"""What a training run reports, as plain dataclasses (no Qt: the GUI adapts them to signals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image


@dataclass(frozen=True)
class Started:
    iteration: int
    total_iterations: int
    device: str  # e.g. "CUDA: NVIDIA H100" or "CPU, 2 threads"
    resumed: bool
    notes: tuple[str, ...] = ()  # e.g. "the latest checkpoint was damaged; resumed from ..."
    family: str = ""  # pix2pix or cyclegan


@dataclass(frozen=True)
class StepMetrics:
    """After every iteration. ``losses`` holds the averages since the last report, filled a few times a
    second (reading losses waits for the GPU) and at every sample point; empty in between."""

    iteration: int
    total_iterations: int
    epoch: int
    losses: dict[str, float]
    lr: float
    it_per_s: float
    eta_s: float


@dataclass(frozen=True)
class SampleImages:
    """input | output | target for the run's fixed preview images, one row each."""

    iteration: int
    strip: Image.Image
    path: Path


@dataclass(frozen=True)
class ValidationMetrics:
    """Held-out scores. ``kind`` "pairs": pix2pix outputs against their targets; "cycle": CycleGAN's
    held-out images of both domains translated there and back, against themselves."""

    iteration: int
    l1: float
    psnr: float
    ssim: float
    count: int
    kind: str = "pairs"


@dataclass(frozen=True)
class CheckpointSaved:
    iteration: int
    path: Path
    reason: str  # "interval", "pause", "stop", "finish", "data error"


@dataclass(frozen=True)
class Paused:
    iteration: int


@dataclass(frozen=True)
class Resumed:
    iteration: int


@dataclass(frozen=True)
class Finished:
    """The run ended: ``completed`` when it reached its last iteration, else it was stopped."""

    iteration: int
    completed: bool
    model_dir: Path
    inference: dict | None = None  # batch norm: which statistics translate held-out pairs best, with scores


@dataclass(frozen=True)
class Failed:
    iteration: int
    message: str  # what happened and what to do, for a person
    details: str = field(default="", repr=False)  # the traceback, for the log
    restart: bool = False  # no checkpoint can continue the run: the message offers to start again from scratch
    resume_helps: bool = True  # False: resuming would take the same steps again (a diverged run): not offered


Event = (
    Started | StepMetrics | SampleImages | ValidationMetrics | CheckpointSaved | Paused | Resumed | Finished | Failed
)
