"""A clip's conversion in finished segments, so a stopped one continues, and their join without re-encoding.

Beside the output ``out.mp4`` lives the hidden work folder ``.out.mp4.video-work``:
``state.json`` (what is being converted, with which settings, and the
segments done) and ``segment-00000.mp4``, ... each a whole, playable file of a
few seconds, written under a temporary name and renamed when complete. A run
whose state names another input or other settings starts over. The segments
keep the clip's own timestamps, so the join only copies their packets, with
the clip's audio, into the final container.
"""

from __future__ import annotations

import heapq
import json
import logging
import shutil
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from ..fsutil import atomic_write_text

log = logging.getLogger(__name__)

STATE_VERSION = 1
WORK_SUFFIX = ".video-work"


def work_folder_for(output: Path) -> Path:
    return output.parent / f".{output.name}{WORK_SUFFIX}"


@dataclass
class Segment:
    file: str
    frames: int
    first_pts: int  # the segment's timestamps start from 0; this is its first frame's, in the clip's time base


@dataclass
class WorkState:
    key: dict  # the input and every setting that changes the frames
    stats: list | None = None  # the clip's held normalisation statistics
    colour_reference: list | None = None  # the first converted frame's colour moments
    rotation: int = 0
    segments: list[Segment] = field(default_factory=list)
    flicker: dict = field(default_factory=dict)

    @property
    def frames_done(self) -> int:
        return sum(s.frames for s in self.segments)


class WorkFolder:
    def __init__(self, output: Path):
        self.path = work_folder_for(output)
        self.state_file = self.path / "state.json"

    def load(self, key: dict) -> WorkState:
        """The state of an earlier run of this very conversion, or a fresh one (clearing another's)."""
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
            if data.get("version") == STATE_VERSION and data.get("key") == key:
                segments = [Segment(str(s["file"]), int(s["frames"]), int(s["first_pts"])) for s in data["segments"]]
                if all((self.path / s.file).is_file() for s in segments):
                    return WorkState(
                        key,
                        data.get("stats"),
                        data.get("colour_reference"),
                        int(data.get("rotation", 0)),
                        segments,
                        dict(data.get("flicker") or {}),
                    )
            log.info("%s: another conversion's work, starting over", self.path)
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("%s: unreadable state (%s), starting over", self.state_file, exc)
        self.clear()
        return WorkState(key)

    def save(self, state: WorkState) -> None:
        data = {
            "version": STATE_VERSION,
            "key": state.key,
            "stats": state.stats,
            "colour_reference": state.colour_reference,
            "rotation": state.rotation,
            "segments": [asdict(s) for s in state.segments],
            "flicker": state.flicker,
        }
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.state_file, json.dumps(data))

    def segment_path(self, number: int) -> Path:
        return self.path / f"segment-{number:05d}.mp4"

    def clear(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _packets(path: Path, stream_index: int, shift_s: float | Fraction = 0.0, end_s: float | None = None):
    """One stream's packets in order, shifted back by ``shift_s``, up to ``end_s`` (both in seconds)."""
    with av.open(str(path)) as container:
        stream = container.streams[stream_index]
        shift = round(Fraction(shift_s).limit_denominator(10**6) / stream.time_base) if shift_s else 0
        for packet in container.demux(stream):
            if packet.dts is None and packet.pts is None:
                continue  # the demuxer's end-of-stream marker
            if end_s is not None and packet.pts is not None and float(packet.pts * stream.time_base) >= end_s:
                continue
            if shift:
                if packet.pts is not None and packet.pts < shift:
                    continue
                packet.pts = None if packet.pts is None else packet.pts - shift
                packet.dts = None if packet.dts is None else packet.dts - shift
            yield packet


def _video_packets(segments: list[tuple[Path, Fraction]]):
    """The segments' video packets as one stream, each segment moved to its start time (seconds)."""
    for path, start in segments:
        for packet in _packets(path, 0):
            shift = round(start / packet.time_base)
            packet.pts = None if packet.pts is None else packet.pts + shift
            packet.dts = None if packet.dts is None else packet.dts + shift
            yield packet


def _chapters(source: Path, shift_s: float | Fraction, end_s: float | None) -> list[dict]:
    """The clip's chapters within the range converted, moved back by ``shift_s`` (in milliseconds)."""
    with av.open(str(source)) as clip:
        chapters = clip.chapters()
    shift = Fraction(shift_s).limit_denominator(10**6)
    kept: list[dict] = []
    for chapter in chapters:
        start, end = chapter["start"] * chapter["time_base"], chapter["end"] * chapter["time_base"]
        if end_s is not None:
            end = min(end, Fraction(end_s).limit_denominator(10**6))
        start, end = max(Fraction(0), start - shift), end - shift
        if end > start:
            ms = Fraction(1, 1000)
            kept.append(
                {
                    "id": len(kept) + 1,
                    "start": round(start / ms),
                    "end": round(end / ms),
                    "time_base": ms,
                    "metadata": dict(chapter["metadata"]),
                }
            )
    return kept


def join(
    segments: list[tuple[Path, Fraction]],
    target: Path,
    container_format: str,
    audio_from: Path | None,
    copied: list[int],
    rotation: int,
    shift_s: float | Fraction,
    end_s: float | None,
) -> None:
    """Write ``target``: the segments' video and the ``copied`` streams of ``audio_from`` (its sound and
    subtitles), packets copied, with its chapters (those within the range).

    ``segments``: each segment's file and the time its first frame starts at, in seconds.
    """
    with av.open(str(target), "w", format=container_format) as out, av.open(str(segments[0][0])) as first:
        video = out.add_stream_from_template(first.streams.video[0])
        if rotation:
            video.set_display_rotation(rotation)
        chapters = _chapters(audio_from, shift_s, end_s) if audio_from is not None else []
        if chapters:
            out.set_chapters(chapters)
        sources = [(0, _video_packets(segments), video)]
        if audio_from is not None and copied:
            with av.open(str(audio_from)) as clip:
                for n, index in enumerate(copied):
                    stream = out.add_stream_from_template(clip.streams[index])
                    sources.append((n + 1, _packets(audio_from, index, shift_s, end_s), stream))

        def timed(order, packets, stream):
            for packet in packets:
                when = packet.dts if packet.dts is not None else packet.pts
                yield float(when * packet.time_base), order, packet, stream

        # Interleaved by time, as a player reads them: the muxer then buffers little.
        for _, _, packet, stream in heapq.merge(*(timed(*source) for source in sources), key=lambda t: t[:2]):
            packet.stream = stream
            out.mux(packet)
