"""``gan-studio-convert``: translate a folder of photos (and the clips in it) with a model of the library.

Exit codes: 0 every file converted or skipped, 1 some files failed (see the
report in the output folder), 2 bad model, folders or settings, 130 cancelled.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path

from .cli_common import EXIT_OK, EXIT_PAUSED, EXIT_USAGE, ctrl_c_cancels, quiet_exits
from .convert.batch import BatchFinished, BatchJob, BatchStarted, ClipProgress, FileDone, OutputFolderUnwritable
from .convert.model_file import translator_for_model
from .convert.settings import add_options, config_from_args
from .convert.statuses import FAILED
from .convert.video_cli import add_video_options, is_clip, options_from_args, run_clip
from .device import describe_device, pick_device
from .errors import GanStudioError
from .humanize import display_path, duration
from .store import ModelLibrary

log = logging.getLogger("gan_studio.convert")
EXIT_SOME_FAILED = 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gan-studio-convert", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="the model's name (gan-studio-models list)")
    p.add_argument("--input", required=True, type=Path, help="folder of photos, or a clip (.mp4, .mov, .mkv, ...)")
    p.add_argument(
        "--output", required=True, type=Path, help="folder for the results (never the input folder), or the clip's"
    )
    # The conversion settings' one list, which the app's Convert tab is built from too.
    add_options(p)
    add_video_options(p)
    p.add_argument("--device", default="auto")
    p.add_argument(
        "--watch",
        action="store_true",
        help="keep converting new photos and clips as they arrive, each once it stops growing (Ctrl-C ends)",
    )
    return p


class _Progress:
    def __init__(self, stream=sys.stderr):
        self.stream, self.tty = stream, stream.isatty()

    def __call__(self, event) -> None:
        if isinstance(event, BatchStarted):
            log.info("%d images; %s", event.total, event.tiling)
        elif isinstance(event, FileDone):
            if event.status == FAILED:
                self._clear()
                log.warning("failed: %s: %s", display_path(event.input), event.detail)
            if self.tty:
                self.stream.write(
                    f"\r{event.done}/{event.total}  {event.images_per_s:.2f} img/s  "
                    f"ETA {duration(event.eta_s)}  {event.name}\033[K"
                )
                self.stream.flush()
        elif isinstance(event, ClipProgress) and self.tty:
            self.stream.write(
                f"\r{event.done}/{event.total}  {display_path(event.input.name)}: {event.frames_done}/"
                f"{event.frames_total} frames  {event.frames_per_s:.2f} frames/s  ETA {duration(event.eta_s)}\033[K"
            )
            self.stream.flush()
        elif isinstance(event, BatchFinished):
            self._clear()
            counts = event.summary
            prefix = f"{event.stopped}; " if event.stopped else "cancelled: " if event.cancelled else ""
            report = (
                f"report: {display_path(event.report_path)}"
                if event.report_path
                else "the report could not be written (see the message above)"
            )
            log.info("%s%s; %s", prefix, counts, report)

    def _clear(self):
        if self.tty:
            self.stream.write("\r\033[K")


@quiet_exits
def convert_main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = _parser().parse_args(argv)
    cancel = threading.Event()
    try:
        config = config_from_args(args)
        entry = ModelLibrary().get(args.model)
        device = pick_device(args.device)
        translator = translator_for_model(entry, args.direction, device, config)
        if is_clip(args.input):
            log.info("converting %s with %s on %s", display_path(args.input), entry.name, describe_device(device))
            return run_clip(translator, args)
        # A folder's clips take the same video options as one clip (overwriting follows the photos' rules).
        clips = options_from_args(args)
        job = BatchJob(translator, args.input, args.output, config, entry.name, _Progress(), cancel, entry.id, clips)
    except OutputFolderUnwritable as exc:  # the disk, not the command: as training says of its disk
        log.error("error: %s", exc)
        return EXIT_SOME_FAILED
    except GanStudioError as exc:
        log.error("error: %s", exc)
        return EXIT_USAGE
    log.info("converting with %s on %s", entry.name, describe_device(device))
    if job.moved_aside:
        others = ", ".join(f"{name} ({count})" for name, count in sorted(job.moved_aside.items()))
        log.info(
            "%s holds results of another model (%s), which are kept: converting into %s",
            display_path(job.output_dir.parent),
            others,
            display_path(job.output_dir),
        )

    try:
        with ctrl_c_cancels(cancel, second_press_stops=True), job:
            report = job.watch() if args.watch else job.run()
    except KeyboardInterrupt:  # a second Ctrl-C: no waiting for the images in flight
        log.error("stopped at once: every output written so far is whole; nothing half-written is left")
        return EXIT_PAUSED
    if report.stopped:
        return EXIT_SOME_FAILED
    if report.cancelled and not args.watch:
        return EXIT_PAUSED
    return EXIT_SOME_FAILED if report.counts().get(FAILED) else EXIT_OK
