"""Where each converted photo goes, and the check that no write can land on a photo it reads.

Output names come from each input's full name alone, so adding, removing or
renaming one photo never changes another photo's output name: a photo keeps
its name when the output format is its own ("IMG_1.JPG" -> "IMG_1.JPG"), and
otherwise gets the new format's suffix after its whole name ("IMG_1.gif" ->
"IMG_1.gif.png"), so "IMG_1.png" and "IMG_1.gif" never meet.

Folders and files are compared by identity (device and inode), not by their
path strings: one folder reached under two paths (a bind mount, a symbolic
link, or a case-insensitive volume where DCIM and dcim are one) is one folder,
and a hard link to a photo is that photo. Links are resolved first, so a link
inside the output folder that leads back into the input folder is caught per
file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..folder_identity import Identity, identity, within

SAVE_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
FORMAT_SUFFIX = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}


def output_name(name: str, fmt: str) -> str:
    """The output file name for the input file ``name`` in output format ``fmt`` ("same", "png", ...)."""
    suffix = Path(name).suffix.lower()
    own = SAVE_FORMATS.get(suffix)
    if fmt == "same":
        return name if own else name + ".png"  # GIF and the like: lossless PNG
    wanted = FORMAT_SUFFIX[fmt]
    return name if own == SAVE_FORMATS[wanted] else name + wanted


def folder_name_for(model_name: str) -> str:
    """A subfolder name for a model's outputs: its name, with what no file system takes in a name replaced."""
    cleaned = "".join("-" if c in '/\\:*?"<>|' or ord(c) < 32 else c for c in model_name).strip(" .")
    return cleaned or "model"


class OutputGuard:
    """Refuses any output path that is an input photo or lies in a folder that is read."""

    def __init__(self, input_dir: Path, recursive: bool):
        self.input_root = identity(input_dir)
        self.recursive = recursive
        self._inputs: set[Identity] = set()

    def add_inputs(self, paths: Iterable[Path]) -> None:
        self._inputs.update(filter(None, map(identity, paths)))

    def problem(self, output: Path) -> str:
        """Why writing ``output`` (or its temporary file beside it) is refused; "" when it is safe."""
        if identity(output) in self._inputs:
            return "refused: the output path is an input photo (through a link or another name); nothing was written"
        folder = os.path.dirname(os.path.realpath(output))
        read = within(folder, self.input_root) if self.recursive else identity(folder) == self.input_root
        if read:
            return "refused: the output path leads into the input folder (through a link); nothing was written"
        return ""
