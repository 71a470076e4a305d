"""``gan-studio-train``: train a model of the library (new, or ``--resume``d), without a display.

Exit codes: 0 done, 1 training failed, 2 bad data or settings, 130 paused by Ctrl-C.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import options
from .cli_common import EXIT_FAILED, EXIT_OK, EXIT_PAUSED, EXIT_USAGE, quiet_exits, resume_command
from .data.demo import DEMO_NAMES, make_demo_dataset
from .data.demo_landscapes import make_landscape_demo
from .data.discover import discover
from .device import pick_device
from .errors import GanStudioError
from .families import FAMILIES, NAMES
from .humanize import duration
from .presets import DEFAULT_PRESET, PRESETS, defaults
from .store import DiskError, ModelLibrary, demo_dir
from .train.control import TrainingControl
from .train.events import CheckpointSaved, Failed, Finished, SampleImages, Started, StepMetrics, ValidationMetrics
from .train.restart import torchrun_refusal
from .train.trainer import Trainer

log = logging.getLogger("gan_studio.cli")
PROGRESS_EVERY_S = 30.0  # progress lines when the output is a log, not a terminal
DEMO_ITERATIONS = 1000


def _train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gan-studio-train",
        description="Train a pix2pix or CycleGAN model.",
        epilog="Ctrl-C pauses with a checkpoint; --resume NAME continues.",
    )
    p.add_argument("data_dir", nargs="?", type=Path, metavar="DATA", help="dataset folder (same as --data)")
    p.add_argument("--data", type=Path, help="dataset folder: aligned A|B images, A/ B/ folders, or trainA/ trainB/")
    p.add_argument(
        "--demo",
        nargs="?",
        const="shapes",
        choices=("shapes", "landscapes"),
        help="train on a built-in demo project: shapes (paired, pix2pix; the default) or "
        "landscapes (unpaired red to blue, CycleGAN)",
    )
    p.add_argument("--resume", metavar="NAME", help="continue a paused or interrupted model")
    p.add_argument(
        "--restart",
        metavar="NAME",
        help="train a model again from iteration 0 with its settings, when no checkpoint can continue it "
        "(its checkpoints were deleted or are damaged); its generator is kept until the first new checkpoint",
    )
    p.add_argument(
        "--name", help="the model's name in the library (default: the dataset folder's name and a number: ink 3)"
    )
    usual = "; ".join(f"{f.name} for {', '.join(f.usual_for)}" for f in FAMILIES.values() if f.usual_for)
    p.add_argument("--family", choices=NAMES, help=f"default: {usual} data")
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=None,
        help="; ".join(f"{k}: {v['about']}" for k, v in PRESETS.items()),
    )
    p.add_argument("--device", default="auto", help=f"{', '.join(options.DEVICE_CHOICES)} or cuda:N")
    adv = p.add_argument_group("advanced")
    _add_settings(p, adv)
    adv.add_argument(
        "--leave-core-for-ui",
        action="store_true",
        help="use one CPU core less (on machines with 4 or more cores), as the app does",
    )
    return p


def _add_settings(basic, advanced) -> None:
    """One option per user setting (``options.SETTINGS``); unset options leave the preset's value."""
    quick = {family: defaults(family, DEFAULT_PRESET) for family in NAMES}
    for setting in options.SETTINGS:
        flags = [setting.flag] + [f"--{alias}" for alias, name in options.ALIASES.items() if name == setting.name]
        kwargs: dict[str, Any] = {"dest": setting.name, "default": None, "help": _help(setting, quick)}
        if setting.type is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = setting.type
            if setting.choices:
                kwargs["choices"] = setting.choices
        (basic if setting.basic else advanced).add_argument(*flags, **kwargs)


def _help(setting: options.Setting, quick: dict) -> str:
    """The setting's help, its range, and its default under the default preset for each family it has."""
    text = setting.help
    families = setting.families or NAMES
    if len(families) == 1:
        text += f" ({families[0]} only)"
    if setting.type in (int, float) and (setting.low is not None or setting.high is not None):
        text += f"; {setting.range_text()}"
    values = {family: quick[family][setting.name] for family in families}
    if len(set(map(str, values.values()))) == 1:
        shown = str(next(iter(values.values())))
    else:
        shown = ", ".join(f"{family} {value}" for family, value in values.items())
    return f"{text}; default ({DEFAULT_PRESET} preset): {shown}".replace("%", "%%")


class _Progress:
    """Terminal output: a live progress line on a TTY, periodic log lines otherwise."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.tty = stream.isatty()
        self.losses: dict = {}
        self._logged_at: float | None = None  # when the last progress line went to a log (not a terminal)
        self.held_out_brief = "validation"  # what the run's held-out scores compare (its family's words)

    def __call__(self, event) -> None:
        if isinstance(event, StepMetrics):
            self.losses = event.losses or self.losses
            losses = " ".join(f"{k} {v:.3f}" for k, v in list(self.losses.items())[:3])
            status = (
                f"{event.iteration}/{event.total_iterations} {event.it_per_s:.2f} it/s "
                f"ETA {duration(event.eta_s)}  {losses}"
            )
            if self.tty:
                done = event.iteration / event.total_iterations
                bar = "#" * int(24 * done) + "-" * (24 - int(24 * done))
                self.stream.write(f"\r[{bar}] {status}\033[K")
                self.stream.flush()
            elif self._due(event):  # a log file or a job scheduler: a line at a steady cadence
                log.info("iteration %s", status)
            return
        if self.tty:
            self.stream.write("\r\033[K")
        if isinstance(event, Started):
            if event.family in FAMILIES:
                self.held_out_brief = FAMILIES[event.family].held_out_brief
            for note in event.notes:
                log.info("%s", note)
            log.info("training on %s, iteration %d of %d", event.device, event.iteration, event.total_iterations)
        elif isinstance(event, SampleImages) and not self.tty:
            log.info("iteration %d: samples in %s", event.iteration, event.path)
        elif isinstance(event, ValidationMetrics):
            log.info(
                "iteration %d: %s L1 %.4f  PSNR %.2f dB  SSIM %.4f (%d images)",
                event.iteration,
                self.held_out_brief,
                event.l1,
                event.psnr,
                event.ssim,
                event.count,
            )
        elif isinstance(event, CheckpointSaved) and not self.tty:
            log.info("iteration %d: checkpoint saved (%s)", event.iteration, event.reason)

    def _due(self, event) -> bool:
        now = time.monotonic()
        if (
            self._logged_at is None
            or now - self._logged_at >= PROGRESS_EVERY_S
            or event.iteration == event.total_iterations
        ):
            self._logged_at = now
            return True
        return False


def _overrides(args) -> dict:
    return {s.name: getattr(args, s.name) for s in options.SETTINGS if getattr(args, s.name, None) is not None}


def _new_trainer(args, library: ModelLibrary, **kwargs) -> Trainer:
    folder = args.data or args.data_dir
    if args.demo == "shapes":
        folder = make_demo_dataset(demo_dir())
    elif args.demo == "landscapes":
        folder = make_landscape_demo(demo_dir("landscapes"))
    if folder is None:
        raise GanStudioError(
            "give a dataset folder (--data DIR), --demo for the built-in demo project, "
            "or --resume NAME to continue a model"
        )
    report = discover(folder)
    log.info("%s", report.summary())
    overrides = _overrides(args)
    if args.demo and "iterations" not in overrides:
        overrides["iterations"] = DEMO_ITERATIONS
    name = args.name or library.new_name(DEMO_NAMES.get(args.demo) or Path(folder).name)
    return Trainer.create(
        report,
        name,
        family=args.family,
        preset=args.preset or DEFAULT_PRESET,
        overrides=overrides,
        library=library,
        **kwargs,
    )


def _check_sources(args) -> None:
    """One thing to train: a dataset, a demo, a model to resume, or one to restart; never two at once."""
    given = [
        flag
        for flag, value in (
            ("--data", args.data or args.data_dir),
            ("--demo", args.demo),
            ("--resume", args.resume),
            ("--restart", args.restart),
        )
        if value
    ]
    if len(given) < 2:
        return
    about = {
        "--restart": "--restart trains a model again from scratch on its own data and settings",
        "--resume": "--resume continues a model on its own data and settings",
        "--demo": "--demo trains on the built-in demo project",
    }
    first = next(flag for flag in ("--restart", "--resume", "--demo") if flag in given)
    others = " and ".join(flag for flag in given if flag != first)
    raise GanStudioError(f"{about[first]}: leave out {others}, or start a new model without {first}")


def _pause_on_signal(control: TrainingControl):
    """Ctrl-C, a closed terminal (SIGHUP) and shutdown or kill (SIGTERM) all pause with a checkpoint.

    A second signal while the checkpoint is written is ignored: cutting the
    save short would only lose what it is saving.
    """

    def handler(signum, frame):
        if control.stop_requested:
            log.info("still saving the checkpoint; the run pauses as soon as it is written")
            return
        log.info("\n%s: pausing, saving a checkpoint", signal.Signals(signum).name)
        control.stop()

    return handler


class _PauseWhenLogCloses(logging.StreamHandler):
    """Log lines to stderr; once their reader has gone (``2>&1 | head``), the run pauses with a checkpoint.

    Training on unseen would hold the pipeline open until the run ends. A
    closed pipe is taken as a closed terminal is (SIGHUP): pause, save, exit.
    """

    def __init__(self, on_closed: Callable[[], None]):
        super().__init__(sys.stderr)
        self.on_closed = on_closed

    def handleError(self, record) -> None:
        if isinstance(sys.exc_info()[1], BrokenPipeError):  # nobody reads any more: nothing to print either
            self.on_closed()
        else:
            super().handleError(record)


@quiet_exits
def train_main(argv=None) -> int:
    from .train.distributed import from_env

    ctx = from_env()
    control = TrainingControl()
    # Under torchrun only rank 0 talks; the others stay quiet unless something goes wrong.
    quiet = ctx is not None and not ctx.is_main
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(message)s",
        handlers=[_PauseWhenLogCloses(control.stop)],
    )
    args = _train_parser().parse_args(argv)
    library = ModelLibrary()
    kwargs = dict(
        on_event=None if quiet else _Progress(),
        control=control,
        device=args.device,
        leave_core_for_ui=args.leave_core_for_ui,
    )
    try:
        _check_sources(args)
        pick_device(args.device)  # a device that is not here: say so before anything is created
        if args.resume or args.restart:
            ignored = [k for k in _overrides(args) if k != "iterations"]
            if ignored:
                log.warning("a resumed model keeps its settings; ignoring %s", ", ".join(ignored))
            key, restart = (args.restart, True) if args.restart else (args.resume, False)
            if restart and ctx is not None:  # before any process joins the group, plans or waits
                raise torchrun_refusal(key)
            trainer = Trainer.reopen(key, library, iterations=args.iterations, restart=restart, **kwargs)
        else:
            trainer = _new_trainer(args, library, **kwargs)
    except DiskError as exc:  # full or read-only: the settings were fine
        log.error("error: %s", exc)
        return EXIT_FAILED
    except GanStudioError as exc:
        log.error("error: %s", exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        log.error("\ncancelled while checking the dataset; no model was created")
        return EXIT_PAUSED
    log.info("model %r in %s", trainer.entry.name, trainer.entry.path)

    signals = [sig for sig in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, sig)]
    previous = {sig: signal.signal(getattr(signal, sig), _pause_on_signal(control)) for sig in signals}
    try:
        result = trainer.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(getattr(signal, sig), handler)
    resume_hint = resume_command(trainer.entry.name)
    if isinstance(result, Failed):
        log.error("error: %s", result.message)
        if result.restart:  # nothing can continue it: the message offers the restart, resuming would fail again
            return EXIT_USAGE
        if result.resume_helps:  # not after a divergence: the message says to lower a setting in a new model
            log.error("to continue from the last checkpoint: %s", resume_hint)
        return EXIT_FAILED
    assert isinstance(result, Finished)
    if not result.completed:
        log.info("paused at iteration %d; to continue: %s", result.iteration, resume_hint)
        return EXIT_PAUSED
    log.info("finished %d iterations; the model is in %s", result.iteration, result.model_dir)
    return EXIT_OK


if __name__ == "__main__":  # python -m training_core.cli ..., e.g. under torchrun
    sys.exit(train_main())
