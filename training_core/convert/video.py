"""Convert a clip frame by frame with a translator: its timing, rotation and sound kept, without flicker, resumable.

Every frame is decoded at full resolution, translated like a photo, and
encoded (H.264 at a CRF quality by default) with its own timestamp, so a
variable frame rate stays as it was. The audio and subtitle streams are copied
packet for packet, and the chapters kept, where the output's container carries
them. The frames go into segments of a few seconds in a hidden work folder
(``video_segments``): a run stopped by a cancel, a kill or a power cut
continues from its last finished segment, and the segments are joined without
re-encoding into a temporary file beside the output, renamed when complete.
The model's statistics are held across the clip (``held_stats``) and the
result's flicker is measured (``flicker``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from ..config import ConvertConfig
from ..errors import ConfigError
from ..folder_identity import identity
from ..fsutil import atomic_path, explain_write_error
from ..humanize import display_path, duration
from ..rate import RateMeter
from . import held_stats
from .clip_files import HOLDS
from .flicker import FlickerMeter, colour_moments, match_colours
from .overlap import ReadAhead, WriteBehind
from .video_io import ENCODERS, SegmentEncoder, sample_frames, selected_frames
from .video_probe import ClipInfo, VideoError, clip_info, open_clip
from .video_segments import Segment, WorkFolder, WorkState, join

log = logging.getLogger(__name__)

CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}
# The subtitle codecs a container carries (by PyAV's decoder names, which say srt for SubRip, ssa for ASS);
# the others are left out with a note.
SUBTITLES_CARRIED = {
    "mp4": {"mov_text"},
    "mov": {"mov_text"},
    "matroska": {"srt", "subrip", "ssa", "ass", "webvtt", "dvd_subtitle", "hdmv_pgs_subtitle", "dvb_subtitle"},
    "webm": {"webvtt"},
}
OVERLAP_DEPTH = 4  # frames decoded ahead of the network, and waiting for the encoder
# The audio codecs a container carries as they are (others, such as PCM in MP4, need .mov or .mkv).
AUDIO_CARRIED = {
    "mp4": {"aac", "mp3", "opus", "flac", "ac3", "eac3", "alac"},
    "webm": {"opus", "vorbis"},
}


@dataclass
class VideoOptions:
    """How to convert a clip. quality: the encoder's CRF (0 best, 51 worst; 18 looks like the source)."""

    codec: str = "h264"
    quality: int = 18
    preset: str = "medium"
    start: float = 0.0  # seconds into the clip
    duration: float | None = None  # seconds from the start; None: to the end
    hold_stats: bool = True
    colour_match: bool = False
    stat_samples: int = 8  # frames spread over the clip whose statistics are held
    segment_seconds: float = 4.0
    overwrite: bool = False
    overlap: bool = True  # decode, network and encode in three threads; False: one after the other

    def validate(self) -> None:
        if self.codec not in ENCODERS:
            raise ConfigError(f"codec must be one of {', '.join(ENCODERS)}, got {self.codec!r}")
        if not 0 <= self.quality <= 51:
            raise ConfigError(f"quality (CRF) must be 0 to 51, got {self.quality}")
        if not (self.start >= 0 and self.start != float("inf")):
            raise ConfigError(f"start must be a number of seconds from 0, got {self.start}")
        if self.duration is not None and not 0 < self.duration < float("inf"):
            raise ConfigError(f"duration must be a positive number of seconds, got {self.duration}")
        if not 1 <= self.stat_samples <= 64:
            raise ConfigError(f"stat_samples must be 1 to 64, got {self.stat_samples}")
        if not 0 < self.segment_seconds < float("inf"):
            raise ConfigError(f"segment_seconds must be positive, got {self.segment_seconds}")

    @classmethod
    def from_config(cls, config: ConvertConfig, **trial) -> VideoOptions:
        """The clip settings of ``config`` (the settings list's), with ``trial``'s (start, duration, ...)."""
        return cls(
            codec=config.video_codec,
            quality=config.video_quality,
            hold_stats=config.hold_stats,
            colour_match=config.colour_match,
            **trial,
        )

    def frame_settings(self) -> dict:
        """The options that change the output's frames (a resumed run must have the same)."""
        settings = asdict(self)
        settings.pop("overwrite")
        settings.pop("overlap")  # the same frames either way
        return settings


@dataclass
class VideoProgress:
    frames_done: int
    frames_total: int  # an estimate from the clip's index or duration
    frames_per_s: float
    eta_s: float
    resumed_from: int  # frames that an earlier run had finished


@dataclass
class VideoReport:
    input: str
    output: str
    frames: int = 0
    duration_s: float = 0.0
    frames_per_s: float = 0.0
    flicker_index: float = float("nan")
    input_change: float = 0.0  # mean absolute difference between consecutive frames, of 255
    output_change: float = 0.0
    statistics: str = "per frame"
    colour_match: bool = False
    audio_streams: int = 0
    subtitle_streams: int = 0
    resumed_from: int = 0
    cancelled: bool = False
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        state = "cancelled (run it again to continue)" if self.cancelled else "converted"
        lines = [
            f"{self.input} -> {self.output}: {state}",
            f"  {self.frames} frames, {duration(self.duration_s)}, {self.frames_per_s:.2f} frames/s"
            + (f", continued after {self.resumed_from} frames" if self.resumed_from else ""),
            f"  flicker index {self.flicker_index:.3f} (output change {self.output_change:.2f} / input change "
            f"{self.input_change:.2f} grey levels per frame; statistics {self.statistics}"
            + (", colours matched to the first frame)" if self.colour_match else ")"),
            f"  audio streams copied: {self.audio_streams}"
            + (f", subtitle streams: {self.subtitle_streams}" if self.subtitle_streams else ""),
        ]
        return "\n".join(lines + [f"  note: {note}" for note in self.notes])


class _Cancelled(Exception):
    pass


def _check_paths(input_path: Path, output_path: Path, options: VideoOptions) -> str:
    """The output's container format, after refusing an output that is the input or a file in the way."""
    if output_path.suffix.lower() not in CONTAINERS:
        raise ConfigError(
            f"{display_path(output_path)}: a video output must end in {', '.join(CONTAINERS)}"
            f" (got {output_path.suffix or 'no suffix'})"
        )
    suffix = ".mp4" if output_path.suffix.lower() == ".m4v" else output_path.suffix.lower()
    if options.codec not in HOLDS[suffix]:
        raise ConfigError(
            f"{display_path(output_path)}: a {suffix} clip cannot hold {options.codec} video: choose "
            + " or ".join(HOLDS[suffix])
            + (" or another suffix" if suffix == ".webm" else ", or a .mkv or .mp4 name")
        )
    same = identity(output_path) is not None and identity(output_path) == identity(input_path)
    if same or os.path.abspath(output_path) == os.path.abspath(input_path):
        raise VideoError(output_path, "the output would be the input itself: choose another output name")
    if output_path.exists() and not options.overwrite:
        raise VideoError(output_path, "exists already: choose another name, or allow overwriting it")
    return CONTAINERS[output_path.suffix.lower()]


def _key(input_path: Path, translator, options: VideoOptions) -> dict:
    st = input_path.stat()
    model = translator.fingerprint() if hasattr(translator, "fingerprint") else type(translator).__name__
    return {
        "input": os.fsdecode(os.path.abspath(input_path)),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "model": model,
        "options": options.frame_settings(),
    }


def _copied_streams(container_format: str, report: VideoReport) -> list[int]:
    """Indexes (in the clip) of the audio and subtitle streams the output container carries as they are."""
    kept = []
    with av.open(report.input) as clip:
        for stream in [*clip.streams.audio, *clip.streams.subtitles]:
            name = stream.codec_context.name if stream.codec_context else "unknown"
            if stream.type == "audio":
                carried, other = AUDIO_CARRIED.get(container_format), ".mov or .mkv"
            else:
                carried, other = SUBTITLES_CARRIED.get(container_format, set()), "another container (.mkv or .mp4)"
            if carried is not None and name not in carried:
                report.notes.append(
                    f"{stream.type} stream {stream.index} ({name}) cannot be carried in "
                    f"{container_format.upper()}: use {other}"
                )
                continue
            kept.append(stream.index)
            if stream.type == "audio":
                report.audio_streams += 1
            else:
                report.subtitle_streams += 1
    return kept


def convert_video(
    translator,
    input_path: str | Path,
    output_path: str | Path,
    options: VideoOptions | None = None,
    on_progress: Callable[[VideoProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> VideoReport:
    """Convert one clip; its report says cancelled when stopped (a rerun then continues where it stopped).

    ``translator``: a Translator, or anything with ``translate(PIL image) -> PIL image``.
    Raises VideoError (a clip that cannot be read, an output that cannot be written) or ConfigError.
    """
    options = options or VideoOptions()
    options.validate()
    input_path, output_path = Path(input_path), Path(output_path)
    container_format = _check_paths(input_path, output_path, options)
    report = VideoReport(display_path(input_path), display_path(output_path), colour_match=options.colour_match)
    with open_clip(input_path) as probe:
        info = clip_info(probe)
    work = WorkFolder(output_path)
    job = _Job(translator, input_path, info, options, work, report)
    try:
        job.state = work.load(_key(input_path, translator, options))
        report.resumed_from = job.state.frames_done
        job.prepare()
        if not job.run_segments(on_progress, cancel or threading.Event()):
            report.cancelled = True
            return report
        copied = _copied_streams(container_format, report)
        with atomic_path(output_path) as tmp:
            join(
                job.segment_files(),
                tmp,
                container_format,
                input_path,
                copied,
                job.state.rotation,
                job.offset * info.time_base,
                job.end,
            )
        work.clear()
    except OSError as exc:
        detail = explain_write_error(exc, output_path.parent, elsewhere="choose another output folder")
        raise VideoError(output_path, f"{detail} (the finished segments are kept: run it again to continue)") from None
    except av.error.FFmpegError as exc:
        raise VideoError(input_path, f"damaged after frame {job.frames_done} ({exc}): copy the clip again") from None
    report.frames = job.state.frames_done
    report.duration_s = job.last_time_s - job.first_time_s + info.frame_seconds()
    log.info("%s", report.text())
    return report


class _Job:
    """One clip's conversion: its held statistics, then the segments still to encode."""

    def __init__(self, translator, input_path: Path, info: ClipInfo, options: VideoOptions, work, report):
        self.translator, self.input_path, self.info, self.options = translator, input_path, info, options
        self.work, self.report = work, report
        self.end = options.start + options.duration if options.duration else None
        self.offset = 0  # subtracted from every timestamp: a trial of a later range plays from 0
        self.state: WorkState  # loaded (or begun) by convert_video before any use
        self.frames_done = 0
        self.first_time_s = self.last_time_s = 0.0

    def segment_files(self) -> list[tuple[Path, Fraction]]:
        return [(self.work.path / s.file, s.first_pts * self.info.time_base) for s in self.state.segments]

    def prepare(self) -> None:
        """The clip's statistics, measured once and kept in the state, so a resumed run holds the same."""
        if self.options.hold_stats and held_stats.can_hold(self.translator):
            if self.state.stats is None:
                sample = sample_frames(
                    self.input_path, self.info, self.options.start, self.end, self.options.stat_samples
                )
                if sample:
                    self.state.stats = held_stats.measure(self.translator, sample)
            self.report.statistics = f"held (measured at {self.options.stat_samples} times across the clip)"
        elif self.options.hold_stats and hasattr(held_stats.network(self.translator), "measures_per_image"):
            self.report.notes.append("this model's statistics are fixed already (running averages): nothing to hold")
        self.work.save(self.state)

    def run_segments(self, on_progress, cancel: threading.Event) -> bool:
        """Encode the segments not yet done; False when cancelled (the finished ones stay for a rerun)."""
        options, state = self.options, self.state
        per_segment = max(1, round(options.segment_seconds * float(self.info.rate)))
        flicker = FlickerMeter(**state.flicker)
        meter = RateMeter(window=30)
        total = _frames_total(self.info, options)
        started = time.perf_counter()
        stats = state.stats if options.hold_stats else None
        depth = OVERLAP_DEPTH if options.overlap else 0
        with (
            open_clip(self.input_path) as clip,
            held_stats.held(self.translator, stats),
            ReadAhead(
                _pictures(selected_frames(clip, self.info, options.start, self.end), state.frames_done), depth
            ) as frames,
            WriteBehind(depth) as writer,
        ):
            pending = next(frames, None)
            self.first_time_s = float(pending[0] * self.info.time_base) if pending else 0.0
            if options.start > 0 and pending:
                self.offset = pending[0]
            for _ in range(state.frames_done):  # decoded again, not converted: the segments hold them
                if pending is None:
                    break
                self.last_time_s = float(pending[0] * self.info.time_base)
                pending = next(frames, None)
            self.frames_done = state.frames_done
            while pending is not None:
                if cancel.is_set():
                    return False
                path = self.work.segment_path(len(state.segments))
                try:
                    with atomic_path(path) as tmp:
                        state.rotation = state.rotation or pending[2]
                        encoder = SegmentEncoder(
                            tmp, self.info, options.codec, options.quality, options.preset, state.rotation
                        )
                        count = 0
                        try:
                            while pending is not None and count < per_segment:
                                if cancel.is_set():
                                    raise _Cancelled
                                pts, rgb, _rotation = pending
                                writer.submit(encoder.write, self._translate(rgb, flicker), pts - self.offset)
                                self.last_time_s = float(pts * self.info.time_base)
                                count += 1
                                self.frames_done += 1
                                meter.tick()
                                if on_progress:
                                    on_progress(
                                        VideoProgress(
                                            self.frames_done,
                                            max(total, self.frames_done),
                                            meter.rate,
                                            meter.eta(max(0, total - self.frames_done)),
                                            self.report.resumed_from,
                                        )
                                    )
                                pending = next(frames, None)
                            writer.submit(encoder.finish)
                            writer.wait()  # the segment whole on disk before it is renamed and recorded
                        except BaseException:
                            with contextlib.suppress(BaseException):
                                writer.wait()  # the frames in hand go to the encoder that is dropped anyway
                            encoder.abort()
                            raise
                except _Cancelled:
                    return False
                assert encoder.first_pts is not None  # the segment holds a frame at least: pending was one
                state.segments.append(Segment(path.name, count, encoder.first_pts))
                state.flicker = flicker.state()
                self.work.save(state)
        if not state.segments:
            raise VideoError(self.input_path, "no frames in the chosen range: check the start and the duration")
        self._check_complete()
        seconds = time.perf_counter() - started
        converted = state.frames_done - self.report.resumed_from
        self.report.frames_per_s = converted / seconds if seconds > 0 and converted else 0.0
        self.report.flicker_index = flicker.index()
        self.report.input_change = flicker.input_change / flicker.pairs if flicker.pairs else 0.0
        self.report.output_change = flicker.output_change / flicker.pairs if flicker.pairs else 0.0
        return True

    def _translate(self, rgb: np.ndarray, flicker: FlickerMeter) -> np.ndarray:
        out = np.asarray(self.translator.translate(Image.fromarray(rgb)).convert("RGB"))
        if self.options.colour_match:
            if self.state.colour_reference is None:
                self.state.colour_reference = colour_moments(out)  # saved with the first segment
            else:
                out = match_colours(out, self.state.colour_reference)
        flicker.add(rgb, out)
        return out

    def _check_complete(self) -> None:
        """A clip whose index promised more frames than it decoded was cut short: say so, write nothing."""
        expected = self.info.frames
        whole_clip = self.options.start == 0 and self.options.duration is None
        if whole_clip and expected and self.state.frames_done < expected - 1:
            raise VideoError(
                self.input_path,
                f"truncated: it ends after {self.state.frames_done} of its {expected} frames: copy the clip again",
            )


def _pictures(frames, skip: int):
    """(pts, HxWx3 uint8 or None for the first ``skip``, which a resumed run has already, display rotation)."""
    for n, (pts, frame) in enumerate(frames):
        yield pts, frame.to_ndarray(format="rgb24") if n >= skip else None, int(getattr(frame, "rotation", 0) or 0)


def _frames_total(info: ClipInfo, options: VideoOptions) -> int:
    """The frames the range should hold: the clip's index for the whole clip, else its length times its rate."""
    if options.start == 0 and options.duration is None and info.frames:
        return info.frames
    length = options.duration if options.duration else max(0.0, info.duration_s - options.start)
    if options.duration:
        length = min(length, max(0.0, info.duration_s - options.start)) or length
    return max(1, round(length * float(info.rate)))
