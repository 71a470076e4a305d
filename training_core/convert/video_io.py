"""Frames in and out of PyAV: the frames of a range of a clip, a sample spread over it, and a segment's encoder."""

from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .video_probe import ClipInfo, VideoError, clip_info, open_clip

ENCODERS = {"h264": "libx264", "hevc": "libx265", "vp9": "libvpx-vp9"}
SEGMENT_FORMAT = "mp4"


def selected_frames(container, info: ClipInfo, start: float, end: float | None):
    """(pts, frame) of every frame from ``start`` up to ``end`` seconds, each pts strictly after the one before."""
    stream = container.streams.video[0]
    if start > 0:
        container.seek(int(start / info.time_base), stream=stream, backward=True)
    frame_ticks = max(1, round(1 / (info.rate * info.time_base))) if info.rate else 1
    last = None
    for frame in _decoded(container, stream, info):
        pts = frame.pts if frame.pts is not None else (last + frame_ticks if last is not None else 0)
        when = float(pts * info.time_base)
        if when < start - 1e-6:
            continue
        if end is not None and when >= end - 1e-6:
            return
        if last is not None and pts <= last:
            pts = last + 1  # a repeated timestamp: the encoder needs them rising
        last = pts
        yield pts, frame


def _decoded(container, stream, info: ClipInfo):
    """The stream's frames; a clip that stops decoding part-way is named truncated, with where it stops."""
    count = 0
    try:
        for frame in container.decode(stream):
            count += 1
            yield frame
    except (av.error.InvalidDataError, av.error.EOFError) as exc:
        of = f" of its {info.frames}" if info.frames else ""
        raise VideoError(
            container.name,
            f"truncated or damaged: it stops decoding after frame {count}{of} ({exc.strerror}): copy the clip again",
        ) from None


def sample_frames(path: Path, info: ClipInfo, start: float, end: float | None, count: int) -> list[np.ndarray]:
    """``count`` frames (HxWx3 uint8) at times spread evenly over the range, in one decoding pass."""
    stop = end if end is not None else max(info.duration_s, start)
    wanted = [start + (i + 0.5) * (stop - start) / count for i in range(count)]
    frames: list[np.ndarray] = []
    last = None
    with open_clip(path) as container:
        for pts, frame in selected_frames(container, info, start, end):
            when = float(pts * info.time_base)
            last = frame
            if when + 1e-6 >= wanted[0]:  # one frame serves every time it reaches (a clip shorter than the sample)
                frames.append(frame.to_ndarray(format="rgb24"))
                while wanted and when + 1e-6 >= wanted[0]:
                    wanted.pop(0)
            if not wanted:
                break
        if not frames and last is not None:  # a clip shorter than its index said
            frames.append(last.to_ndarray(format="rgb24"))
    return frames


class SegmentEncoder:
    """One segment file: frames encoded with their timestamps, in the clip's time base.

    Each segment's timestamps start from 0 (``first_pts`` is what the join adds back), and frames are
    never reordered (no B-frames, so each packet's decode time is its presentation time): MP4 then
    keeps every timestamp exactly, and the segments' packets follow one another when joined. Measured
    the other way, a segment starting at a later time came back shifted by a few ticks, and B-frames'
    decode times of one segment fell before the previous segment's last.
    """

    def __init__(self, path: Path, info: ClipInfo, codec: str, quality: int, preset: str, rotation: int):
        self.container = av.open(str(path), "w", format=SEGMENT_FORMAT)
        try:
            options = {"crf": str(quality), "preset": preset}
            if codec == "hevc":
                options["x265-params"] = "log-level=error"
            if codec == "vp9":  # constant quality needs a bit rate of 0; "good" at cpu-used 4: libvpx's fast default
                options = {"crf": str(quality), "b": "0", "deadline": "good", "cpu-used": "4", "row-mt": "1"}
            stream = self.container.add_stream(ENCODERS[codec], rate=info.rate, options=options)
            stream.width, stream.height = info.width, info.height
            even = info.width % 2 == 0 and info.height % 2 == 0
            stream.pix_fmt = "yuv420p" if even else "yuv444p"  # 4:2:0 needs even sides
            stream.codec_context.max_b_frames = 0
            stream.time_base = info.time_base
            stream.codec_context.time_base = info.time_base
            if info.sample_aspect:
                stream.codec_context.sample_aspect_ratio = info.sample_aspect
            if rotation:
                stream.set_display_rotation(rotation)
        except BaseException:
            self.container.close()
            raise
        self.stream = stream
        self.time_base = Fraction(info.time_base)
        self.first_pts: int | None = None

    def write(self, rgb: np.ndarray, pts: int) -> None:
        picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        if self.first_pts is None:
            self.first_pts = pts
        picture.pts, picture.time_base = pts - self.first_pts, self.time_base
        for packet in self.stream.encode(picture):
            self.container.mux(packet)

    def finish(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()


def frame_at(path: Path, seconds: float) -> np.ndarray:
    """The frame shown ``seconds`` into the clip (HxWx3 uint8): its first frame before 0, its last after the end."""
    with open_clip(path) as container:
        info = clip_info(container)
        latest = max(0.0, info.duration_s - info.frame_seconds())
        last = None
        for _pts, frame in selected_frames(container, info, min(max(0.0, seconds), latest), None):
            return frame.to_ndarray(format="rgb24")
        # The index promised more than there is: the last frame decoded from the start.
        container.seek(0)
        for _pts, frame in selected_frames(container, info, 0.0, None):
            last = frame
        if last is None:
            raise VideoError(path, "no frame can be decoded: copy the clip again")
        return last.to_ndarray(format="rgb24")


def clip_seconds(path: Path) -> float:
    """How long the clip plays, from its index (VideoError when it cannot be read)."""
    with open_clip(path) as container:
        return clip_info(container).duration_s
