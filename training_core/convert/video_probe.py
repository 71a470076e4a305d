"""Open a clip and say what it holds, or why it cannot be used, in words naming the file.

PyAV's own errors read "Invalid data found when processing input" for a text
file, an empty file and a clip cut off before its index alike. A file that
starts like a video container but does not open is told apart as truncated or
damaged, since that is what a half-copied recording looks like.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from ..errors import GanStudioError
from ..humanize import display_path

log = logging.getLogger(__name__)


class VideoError(GanStudioError):
    """A clip cannot be read or its conversion cannot be written; the message names the file."""

    def __init__(self, path, detail: str):
        self.path = path
        self.detail = detail
        super().__init__(f"{display_path(path)}: {detail}")


@dataclass
class ClipInfo:
    """What a clip's first video stream is, as conversion needs it."""

    width: int
    height: int
    rate: Fraction  # average frames per second
    time_base: Fraction
    frames: int  # from the container's index; 0 where it has none
    duration_s: float
    sample_aspect: Fraction | None

    def frame_seconds(self) -> float:
        return float(1 / self.rate) if self.rate else 0.0


def _looks_like_a_container(path: Path) -> bool:
    """The first bytes of an MP4/MOV, Matroska/WebM, AVI or GIF file."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return (
        head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free")
        or head.startswith(b"\x1a\x45\xdf\xa3")
        or (head.startswith(b"RIFF") and head[8:12] == b"AVI ")
        or head.startswith((b"GIF87a", b"GIF89a"))
    )


def open_clip(path: str | Path) -> av.container.InputContainer:
    """The clip opened for reading, with a video stream PyAV can decode; VideoError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(path, "not found" if not path.exists() else "not a file")
    try:
        container = av.open(str(path), "r")
    except (av.error.FFmpegError, IndexError, ValueError) as exc:
        if path.stat().st_size == 0:
            raise VideoError(path, "empty file (0 bytes): copy the clip again") from None
        if _looks_like_a_container(path):
            raise VideoError(path, f"truncated or damaged video ({_short(exc)}): copy the clip again") from None
        raise VideoError(path, "not a video (no video container in it): check the file") from None
    try:
        if not container.streams.video:
            raise VideoError(path, "no video stream (only audio or data): choose a clip with pictures")
        stream = container.streams.video[0]
        if stream.codec_context is None:
            raise VideoError(
                path, "its video codec cannot be decoded here (no decoder for it): convert it to H.264 first"
            )
    except BaseException:
        container.close()
        raise
    return container


def clip_info(container: av.container.InputContainer) -> ClipInfo:
    stream = container.streams.video[0]
    ctx = stream.codec_context
    rate = stream.average_rate or stream.guessed_rate or Fraction(25)
    if stream.duration is not None and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    else:
        seconds = (container.duration or 0) / 1e6
    return ClipInfo(
        width=ctx.width,
        height=ctx.height,
        rate=Fraction(rate),
        time_base=Fraction(stream.time_base or Fraction(1, 90000)),
        frames=stream.frames or 0,
        duration_s=seconds,
        sample_aspect=ctx.sample_aspect_ratio,
    )


def _short(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text.split(":")[0].strip()
