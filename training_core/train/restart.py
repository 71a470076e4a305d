"""When a trained model cannot continue where it stopped: say what is missing, and train it again only when asked.

A model's record counts the iterations its checkpoints hold. Once those are
gone (deleted to free space, the run folder removed) or all damaged, starting
at iteration 0 would quietly replace a trained generator with an untrained
one. The Trainer refuses instead, and offers a restart from scratch, which
keeps the old generator until the new run saves its own first checkpoint.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Callable
from pathlib import Path

from ..cli_common import resume_command
from ..errors import GanStudioError
from ..humanize import display_path
from .checkpoint import CheckpointError, checkpoint_dir, list_checkpoints
from .plan import DataPlan

log = logging.getLogger(__name__)

DAMAGED_SUFFIX = ".damaged"  # a checkpoint set aside by a restart: no longer listed, never pruned in a new one's place


class RestartNeeded(GanStudioError):
    """Nothing can continue this model's training; the message offers to start it again from scratch."""


class RestartRefused(GanStudioError):
    """A checkpoint can still continue this model: starting again from scratch would throw its training away."""


def restart_command(name: str) -> str:
    """The command that trains model ``name`` again from iteration 0 with its settings."""
    return f"gan-studio-train --restart {shlex.quote(name)}"


def restart_offer(name: str) -> str:
    return (
        f"To train it again from iteration 0 with the same settings, start again from scratch "
        f"(Start Again from Scratch in the app, or {restart_command(name)}); its current generator is "
        "kept until the new run saves its first checkpoint."
    )


def what_is_missing(run_dir: Path, trained: int) -> str | None:
    """Why a model that trained ``trained`` iterations cannot continue, found without reading a checkpoint."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return f"its run folder {display_path(run_dir)} is missing"
    if not (run_dir / "dataset.json").is_file():
        return f"its data plan {display_path(run_dir / 'dataset.json')} is missing"
    if trained > 0 and not list_checkpoints(run_dir):
        return f"{display_path(checkpoint_dir(run_dir))} holds no checkpoint"
    return None


def refusal(name: str, trained: int, why: str) -> RestartNeeded:
    what = (
        f"{name} trained {trained:,} iterations, but {why}, so it cannot continue where it stopped"
        if trained > 0
        else f"{name} cannot continue: {why}"
    )
    return RestartNeeded(f"{what}. Nothing was changed. {restart_offer(name)}")


def no_usable_checkpoint(name: str, trained: int, error: CheckpointError) -> RestartNeeded:
    return refusal(name, trained, str(error))


def refuse_restart_while_resumable(name: str, run_folder) -> None:
    """RestartRefused when the newest checkpoint of ``run_folder`` (a RunFolder with its plan) loads."""
    if not run_folder.checkpoints():
        return
    try:
        loaded = run_folder.load_latest()
    except CheckpointError:
        return
    raise RestartRefused(
        f"{name} can continue from iteration {int(loaded.state['iteration']):,}: "
        f"resume it ({resume_command(name)}) rather than start again from scratch"
    )


def torchrun_refusal(name: str) -> RestartRefused:
    """``--restart`` under torchrun: planning the data again is one process's work, and the others would race it."""
    return RestartRefused(
        f"--restart plans {name}'s data again, which one process does: run {restart_command(name)} without "
        f"torchrun, and once it has saved its first checkpoint, pause it (Ctrl-C) and continue on every process "
        f"with torchrun ... {resume_command(name)}. Nothing was changed."
    )


def set_aside_checkpoints(run_dir: Path) -> list[Path]:
    """Rename the run's (damaged) checkpoints out of the list, so the new run's are the only ones."""
    moved = []
    for path in list_checkpoints(run_dir):
        target = path.with_name(path.name + DAMAGED_SUFFIX)
        path.replace(target)
        moved.append(target)
    return moved


def prepare_restart(
    name: str, run_folder, plan: DataPlan | None, damaged: bool, replan: Callable[[], DataPlan]
) -> DataPlan:
    """Before training again from scratch (holding the run): no checkpoint of the old run listed, and
    the plan (``replan``-ned where it is gone; a ``damaged`` one is set aside, never overwritten).

    Refused while a checkpoint can continue the run: starting again would throw that training away."""
    if plan is not None:  # asked again under the lock: another process may have trained it meanwhile
        refuse_restart_while_resumable(name, run_folder)
    moved = set_aside_checkpoints(run_folder.path)
    if moved:
        log.info("set aside %d unusable checkpoint(s) as *%s", len(moved), DAMAGED_SUFFIX)
    if damaged:
        run_folder.plan_path.replace(run_folder.plan_path.with_name("dataset.json" + DAMAGED_SUFFIX))
    if plan is None:  # the run folder or its plan was deleted: the files of the dataset, again
        plan = replan()
        plan.save(run_folder.plan_path)
    return plan
