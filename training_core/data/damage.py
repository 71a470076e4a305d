"""Why a file of a format we open could not be opened: cut short, damaged, or pixels we cannot read.

Pillow answers all of these with "cannot identify image file", the same words
it uses for a PDF, so without a second look a PNG cut short by a failed copy
reads as "unsupported format: PNG" to a person who knows GAN Studio opens PNGs.
The second look asks the format's own reader again, on the file alone, and
keeps its words: where it stopped (at the end of the file: cut short) and why.
"""

from __future__ import annotations

import re
import struct
from typing import BinaryIO

from PIL import Image, PngImagePlugin, TiffImagePlugin

# Pillow's format ids of the readers images.py lets open a file, with the names people know.
KNOWN_NAMES = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "TIFF": "TIFF", "BMP": "BMP", "DIB": "BMP"}
KNOWN_NAMES |= {"GIF": "GIF", "WEBP": "WebP"}

_FIX_DAMAGED = "copy it again from the original, or open it in an image editor and save it again"


def why_unopened(f: BinaryIO, fmt: str, size: int) -> tuple[str, str]:
    """(reason, detail) for a file whose first bytes announce ``fmt`` but that Pillow refused.

    The reader may warn (TIFF's about broken EXIF): callers silence warnings, which are process-wide.
    """
    name = KNOWN_NAMES.get(fmt, fmt)
    f.seek(0)
    try:
        Image.OPEN[fmt][0](f, "").close()
        problem = "it does not follow the format"
    except Exception as e:  # what the format's reader objects to, in its own words
        problem = str(e) or type(e).__name__
    if f.tell() >= size:  # the reader ran into the end of the file: the rest is missing
        return "truncated", (
            f"{name} file cut short: it ends after {size} bytes, inside its header; copy it again from the original"
        )
    if fmt == "TIFF" and "unknown pixel mode" in problem:
        pixels = _tiff_pixels(f)
        return "unsupported format", (
            f"a TIFF of {pixels} pixels, which GAN Studio cannot read: "
            "save it as 8- or 16-bit RGB or greyscale (TIFF or PNG)"
        )
    if "not identified by this driver" in problem:  # Pillow's words for a zero or missing size
        problem = "no valid size or pixel type"
    return "damaged", f"damaged {name} header: {problem}; {_FIX_DAMAGED}"


def _tiff_pixels(f: BinaryIO) -> str:
    """The first page's pixel type in words, e.g. "32-bit floating-point RGB"."""
    try:
        f.seek(0)
        tags = TiffImagePlugin.ImageFileDirectory_v2(f.read(8))
        f.seek(tags.next)
        tags.load(f)
        bits, sample_format = tags.get(258, (1,)), tags.get(339, (1,))
        samples = int(tags.get(277, 1))
    except (OSError, ValueError, SyntaxError, struct.error):
        return "an unusual type of"
    kind = {1: "integer", 2: "signed integer", 3: "floating-point"}.get(int(sample_format[0]), "unknown-type")
    colours = {1: "greyscale", 2: "greyscale + alpha", 3: "RGB", 4: "four-channel"}.get(samples, f"{samples}-channel")
    return f"{int(bits[0])}-bit {kind} {colours}"


def header_problem(e: Exception) -> tuple[str, str] | None:
    """(reason, detail) for Pillow's ValueErrors that are limits, not damage; None for the others."""
    text = str(e)
    m = re.search(r"text chunks: (\d+)>MAX_TEXT_MEMORY", text)
    if m:
        return "too large", (
            f"its text metadata holds {int(m[1]) / 1e6:.0f} MB, more than the "
            f"{PngImagePlugin.MAX_TEXT_MEMORY / 1e6:.0f} MB GAN Studio reads: save the picture again "
            "without its metadata (image editors offer this when exporting)"
        )
    if "MAX_TEXT_CHUNK" in text:
        return "too large", (
            f"a compressed metadata chunk unpacks to more than {PngImagePlugin.MAX_TEXT_CHUNK / 1e6:.0f} MB, "
            "more than GAN Studio reads: save the picture again without its metadata"
        )
    return None
