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
KEPT_CONTAINERS = (".mp4", ".mov", ".mkv")  # written as they are; any other clip becomes MP4


def is_clip_name(name: str) -> bool:
    """A file of a folder to convert as a clip (by its suffix)."""
    return os.path.splitext(name)[1].lower() in FOLDER_CLIP_SUFFIXES


def clip_output_name(name: str) -> str:
    """``walk.mov`` stays ``walk.mov``; ``walk.webm`` becomes ``walk.webm.mp4`` (its whole name kept, as photos')."""
    return name if os.path.splitext(name)[1].lower() in KEPT_CONTAINERS else name + ".mp4"


def iter_clip_files(folder: str | os.PathLike, recursive: bool = False) -> list[Path]:
    """The clips in ``folder`` (with its subfolders when ``recursive``), walked as photos are; what cannot
    be listed is reported by the photos' listing already."""
    return list(iter_image_files(folder, recursive, wanted=is_clip_name))
