"""Which files of a folder are clips, and where a clip's conversion goes: torch- and PyAV-free, for the app too.

A folder of photos may hold clips as well; they are found by suffix here and
probed when converted (video_probe), so a photo or a text file named ``.mp4``
fails as one file with its reason. GIFs stay photos in a folder (they always
were): only ``gan-studio-convert --input anim.gif`` takes one as a clip.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..data.images import iter_image_files

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".gif")
FOLDER_CLIP_SUFFIXES = tuple(s for s in VIDEO_SUFFIXES if s != ".gif")
# The containers a converted clip can be written in, with the video codecs each holds.
HOLDS = {".mp4": ("h264", "hevc", "vp9"), ".mov": ("h264", "hevc"), ".mkv": ("h264", "hevc", "vp9"), ".webm": ("vp9",)}


def is_clip_name(name: str) -> bool:
    """A file of a folder to convert as a clip (by its suffix)."""
    return os.path.splitext(name)[1].lower() in FOLDER_CLIP_SUFFIXES


def clip_output_name(name: str, container: str = "mp4", codec: str = "h264") -> str:
    """``walk.mp4`` stays ``walk.mp4``; ``walk.mov`` becomes ``walk.mov.mp4`` (its whole name kept, as photos').

    With ``container`` "same" a clip keeps its container where that holds ``codec``: ``walk.mov`` stays
    ``walk.mov`` for H.264, ``walk.webm`` stays ``walk.webm`` for VP9; any other still becomes MP4.
    """
    suffix = os.path.splitext(name)[1].lower()
    kept = suffix == ".mp4" or (container == "same" and codec in HOLDS.get(suffix, ()))
    return name if kept else name + ".mp4"


def iter_clip_files(folder: str | os.PathLike, recursive: bool = False) -> list[Path]:
    """The clips in ``folder`` (with its subfolders when ``recursive``), walked as photos are; what cannot
    be listed is reported by the photos' listing already."""
    return list(iter_image_files(folder, recursive, wanted=is_clip_name))
