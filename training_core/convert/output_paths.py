"""Where each converted photo goes, and the check that no write can land on a photo it reads.

Output names come from each input's full name alone, so adding, removing or
renaming one photo never changes another photo's output name: a photo keeps
its name when the output format is its own ("IMG_1.JPG" -> "IMG_1.JPG"), and
otherwise gets the new format's suffix after its whole name ("IMG_1.gif" ->
"IMG_1.gif.png"), so "IMG_1.png" and "IMG_1.gif" never meet.

Paths are compared after resolving symbolic links and "..": a link inside the
output folder that leads back into the input folder is caught per file.
"""

from __future__ import annotations

import os
from pathlib import Path

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


def inside(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or below it (both already resolved)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class OutputGuard:
    """Refuses any output path that resolves onto an input photo or into a folder that is read."""

    def __init__(self, input_dir: Path, recursive: bool):
        self.input_root = os.path.realpath(input_dir)
        self.recursive = recursive
        self._inputs: set[str] = set()

    def add_inputs(self, paths) -> None:
        self._inputs.update(os.path.realpath(p) for p in paths)

    def problem(self, output: Path) -> str:
        """Why writing ``output`` (or its temporary file beside it) is refused; "" when it is safe."""
        real = os.path.realpath(output)
        folder = os.path.dirname(real)
        if real in self._inputs:
            return "refused: the output path leads to an input photo (through a symbolic link); nothing was written"
        read = inside(folder, self.input_root) if self.recursive else folder == self.input_root
        if read:
            return "refused: the output path leads into the input folder (through a symbolic link); nothing was written"
        return ""
