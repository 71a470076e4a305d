"""Decode JPEGs strictly: a photo cut short must fail, even when its file still ends properly.

libjpeg, as Pillow runs it, silently fills missing image data with grey when
the data stops at a marker: a copy cut short and closed with an end-of-image
marker (FFD9), or a few hundred bytes whose header claims 96 megapixels,
decode "successfully" (Pillow throws libjpeg's "premature end of data"
warning away). Three checks from the file's structure, without decoding:

- Every 8x8 block costs at least one bit of Huffman-coded data, so a file
  holding fewer bits than its header has blocks is cut short.
- The scans must carry every coefficient of every component to full
  precision: a cut loses the later scans of a progressive JPEG.
- A one-scan JPEG (what cameras and most programs write) is decoded with the
  end marker after its scan replaced by a few padding bytes. A whole file
  decodes its last row before it needs the marker; a cut one then asks for
  more data than there is, and Pillow reports it as truncated.

Progressive JPEGs need the end marker to finish at all, so the third check
does not apply to them: one cut inside its last scan (the finest detail of one
component) still passes.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass

# Start-of-frame markers of Huffman-coded JPEGs: baseline, extended, progressive.
# (Arithmetic coding can spend less than a bit per block; those are not bounded.)
_HUFFMAN_FRAMES = (0xC0, 0xC1, 0xC2)
_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # 0xC4 DHT, 0xC8 JPG, 0xCC DAC are not frames
# The marker that ends entropy-coded data: 0xFF followed by anything but a stuffed zero,
# a restart marker (which belongs to the scan) or another 0xFF (fill).
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_END_OF_IMAGE = 0xD9
# Enough for libjpeg's look-ahead past the last block (it keeps 25 bits ready), too few to
# complete a missing block.
_PADDING = bytes(8)


@dataclass(frozen=True)
class JpegFrame:
    width: int
    height: int
    huffman: bool
    progressive: bool
    components: tuple[int, ...]  # the component ids the frame header lists
    first_scan: int  # offset of the first start-of-scan marker
    scan_start: int  # offset of the first scan's coded data


def read_frame(data: bytes) -> JpegFrame | None:
    """The frame header and where the first scan starts, from the marker segments; None if unclear."""
    pos, frame = 2, None
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None  # not a marker where one must be: Pillow will say what is wrong
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker in _FRAMES and pos + 10 <= len(data):
            height, width, count = struct.unpack(">HHB", data[pos + 5 : pos + 10])
            ids = tuple(data[pos + 10 + 3 * i] for i in range(count) if pos + 10 + 3 * i < len(data))
            frame = (width, height, marker in _HUFFMAN_FRAMES, marker == 0xC2, ids)
        if marker == 0xDA:  # start of scan: the coded data follows its header
            return JpegFrame(*frame, pos, pos + 2 + length) if frame else None
        pos += 2 + length
    return None


def missing_data(data: bytes, frame: JpegFrame) -> str:
    """Why the file cannot hold the image its header announces; "" when it can."""
    if not frame.huffman or not frame.width or not frame.height:
        return ""
    blocks = math.ceil(frame.width / 8) * math.ceil(frame.height / 8)
    held = max(0, len(data) - frame.scan_start)
    if held * 8 >= blocks:
        return ""
    return (
        f"cut short: its header announces {frame.width}x{frame.height} pixels, which take at least "
        f"{blocks / 8 / 1000:.0f} kB of image data, but the file holds only {held / 1000:.1f} kB; "
        "copy it again from the original"
    )


def missing_scans(data: bytes, frame: JpegFrame) -> str:
    """Why the scans cannot make the whole picture; "" when they can, or when the structure is unclear.

    A JPEG cut short and closed with an end marker loses its later scans: a
    progressive one then shows a blurred picture, a sequential one with a scan
    per component lacks colours. Encoders send every coefficient of every
    component down to full precision (libjpeg refuses scripts that do not), so
    what is never sent was cut off.
    """
    precision: dict[tuple[int, int], int] = {}  # (component, coefficient) -> lowest bit position sent
    pos = frame.first_scan
    try:
        while True:
            if data[pos] != 0xFF:
                return ""
            if data[pos + 1] == 0xDA:
                length = int.from_bytes(data[pos + 2 : pos + 4], "big")
                count = data[pos + 4]
                ids = [data[pos + 5 + 2 * i] for i in range(count)]
                start, end, bits = data[pos + 5 + 2 * count : pos + 8 + 2 * count]
                if not frame.progressive:
                    start, end, bits = 0, 63, 0
                for c in ids:
                    for k in range(start, end + 1):
                        precision[c, k] = min(precision.get((c, k), 99), bits & 0x0F)
                coded = pos + 2 + length
                found = _SCAN_END.search(data, coded)
                if found is None:
                    return ""  # data ends inside a scan: Pillow itself reports that
                pos = found.start()
            elif data[pos + 1] == _END_OF_IMAGE:
                break
            else:  # tables or comments between scans
                pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
                while data[pos + 1] == 0xFF:
                    pos += 1
    except (IndexError, ValueError):
        return ""  # a structure we cannot follow: decoding will say what is wrong
    unsent = [key for c in frame.components for key in ((c, k) for k in range(64)) if precision.get(key) != 0]
    if not unsent:
        return ""
    return (
        "cut short: the file ends before the image data is complete (its last scans are missing, "
        "so part of the picture would be blurred or grey); copy it again from the original"
    )


def strict_stream(data: bytes, frame: JpegFrame) -> bytes:
    """``data`` with a one-scan file's end marker replaced by padding: cut data then fails to decode."""
    end = _SCAN_END.search(data, frame.scan_start)
    if end is None or data[end.start() + 1] != _END_OF_IMAGE:
        return data  # no end at all (Pillow reports that), or more scans follow (progressive)
    return data[: end.start()] + _PADDING
