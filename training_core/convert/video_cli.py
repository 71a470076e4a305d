"""The command line's side of clips: the video options of ``gan-studio-convert`` and the run of one clip.

``gan-studio-convert --model M --input clip.mp4 --output out.mp4`` converts a
clip when its input is a file with a video's suffix; a rerun of a stopped one
continues from its last finished segment.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path

from ..cli_common import EXIT_FAILED, EXIT_OK, EXIT_PAUSED, EXIT_USAGE, ctrl_c_cancels
from ..errors import ConfigError, GanStudioError
from ..humanize import display_path, duration
from .clip_files import VIDEO_SUFFIXES, clip_output_name
from .settings import config_from_args
from .video import VideoOptions, VideoProgress, convert_video

log = logging.getLogger("gan_studio.convert")


def is_clip(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES and not path.is_dir()


def add_video_options(parser: argparse.ArgumentParser) -> None:
    """The options of one conversion of a clip; its codec, quality and flicker measures are settings
    (settings.py: ``--video-codec``, ``--video-quality``, ``--video-container``, ``--per-frame-statistics``,
    ``--colour-match``), shared with the app and a folder's clips."""
    group = parser.add_argument_group("clips: a trial range, and replacing an output clip")
    group.add_argument("--start", type=float, default=0.0, help="seconds into the clip to start from (for trials)")
    group.add_argument("--duration", type=float, default=None, help="seconds to convert from --start")
    group.add_argument("--overwrite-video", action="store_true", help="replace an existing output clip")


def options_from_args(args: argparse.Namespace) -> VideoOptions:
    """The clip options: the settings' (``add_options``) with this run's trial range."""
    config = config_from_args(args)
    options = VideoOptions.from_config(config, start=args.start, duration=args.duration, overwrite=args.overwrite_video)
    options.validate()
    return options


class _ClipProgress:
    def __init__(self, stream=sys.stderr):
        self.stream, self.tty = stream, stream.isatty()

    def __call__(self, event: VideoProgress) -> None:
        if self.tty:
            self.stream.write(
                f"\r{event.frames_done}/{event.frames_total} frames  {event.frames_per_s:.2f} frames/s  "
                f"ETA {duration(event.eta_s)}\033[K"
            )
            self.stream.flush()

    def clear(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K")


def run_clip(translator, args: argparse.Namespace) -> int:
    """Convert ``args.input`` to ``args.output``; Ctrl-C stops after the frame in hand (a rerun continues)."""
    try:
        options = options_from_args(args)
    except ConfigError as exc:
        log.error("error: %s", exc)
        return EXIT_USAGE
    output = args.output
    if output.is_dir() or not output.suffix:
        # Named as in a folder's conversion, so the container setting holds here too.
        output = output / clip_output_name(args.input.name, args.video_container, options.codec)
    cancel = threading.Event()
    progress = _ClipProgress()
    try:
        with ctrl_c_cancels(cancel):
            report = convert_video(translator, args.input, output, options, progress, cancel)
    except ConfigError as exc:
        log.error("error: %s", exc)
        return EXIT_USAGE
    except GanStudioError as exc:
        progress.clear()
        log.error("error: %s", exc)
        return EXIT_FAILED
    progress.clear()
    log.info("%s", report.text())
    if report.cancelled:
        log.info("stopped: run the same command again to continue from %s", display_path(output))
        return EXIT_PAUSED
    return EXIT_OK
