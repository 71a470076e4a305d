"""Safe image loading: every file becomes an 8-bit RGB image or an ImageLoadError.

Users point the app at folders they did not curate: zero-byte downloads, half
copied JPEGs, 16-bit scans, CMYK print files, palette PNGs with transparency,
phone photos rotated by EXIF, and now and then a decompression bomb. Each of
those must either load the way a person would expect to see it, or be
reported with a short reason code (``REASONS``) so a dataset report can group
them. Nothing here may crash, hang, or swap the machine to death.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import stat
import struct
import threading
import warnings
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from ..errors import ImageLoadError
from .damage import KNOWN_NAMES, header_problem, why_unopened
from .jpeg_scan import missing_data, missing_scans, read_frame, strict_stream

log = logging.getLogger(__name__)

# Reason codes, stable strings that reports group by (see ImageLoadError).
REASONS = (
    "unreadable",  # the OS refused: missing, permission denied, I/O error
    "not an image",  # Pillow cannot identify it (empty file, text named .jpg, ...)
    "truncated",  # cut short: in its header, or the header is fine but the data stops part-way
    "damaged",  # a format we open, but its header is corrupt (a bad checksum, no size)
    "too large",  # more pixels than max_pixels, or metadata beyond Pillow's limits: rejected before decoding
    "too small",  # the shorter side is below min_side
    "unmatched pair",  # paired datasets: the file has no usable partner
    "unsupported format",  # an image format we never open (EPS, PDF, PSD...): some start other programs
    "not a file",  # a named pipe, socket, device or folder with an image's name: never opened
)

# Formats opened, each by a decoder inside Pillow itself. Never EPS, PDF and the
# like: Pillow hands those to Ghostscript, a program that runs what the file says.
# (The JPEG decoder also opens the multi-picture JPEGs that many cameras write, as MPO.)
SAFE_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "DIB", "GIF")
SAFE_FORMAT_NAMES = ("JPEG", "PNG", "WebP", "TIFF", "BMP", "GIF")

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif"})

# 100 megapixels is far beyond anything a GAN trains on (a 12000x8000 scan),
# yet one RGB copy of it is only 300 MB, so a few in flight cannot swap.
DEFAULT_MAX_PIXELS = 100_000_000
# Below 8 px the networks' downsampling breaks.
DEFAULT_MIN_SIDE = 8
# Training images (each half of a pair) must have a shorter side of at least this: the smallest
# generator (unet_32) takes 32 px, and smaller pictures, blown up to the training size, are all blur.
TRAIN_MIN_SIDE = 32

_EXIF_ORIENTATION = 0x0112
_WHITE = (255, 255, 255)

# Image.open runs Pillow's own bomb check, which warns above MAX_IMAGE_PIXELS
# (~89 MP) and raises above twice that. We enforce our own limit from the
# header instead, so the warning is silenced while opening, and Pillow's limit
# is lifted for one open when the caller allows more. Warnings filters and
# MAX_IMAGE_PIXELS are process-global, so threads opening images in parallel
# would trample each other; this lock serialises only the cheap header parse,
# never the decoding.
_OPEN_LOCK = threading.Lock()


def is_image_file(path: str | os.PathLike) -> bool:
    """True when the name has an image extension (the content is not checked)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def _fail(path, reason: str, detail: str) -> ImageLoadError:
    assert reason in REASONS, reason
    return ImageLoadError(Path(path), reason, detail)


def _pillow_open(f, lift_limit: bool = False) -> Image.Image:
    with _OPEN_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        saved = Image.MAX_IMAGE_PIXELS
        if lift_limit:
            Image.MAX_IMAGE_PIXELS = None  # restored below, before the lock is released
        try:
            f.seek(0)
            return Image.open(f, formats=SAFE_FORMATS)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _open_regular_file(path: Path):
    """The file opened for reading, if it is a regular file; never blocks, never opens anything else.

    A named pipe named photo.jpg would block a reader forever, a device could
    have side effects: both are refused from their metadata, and the open
    itself cannot block (O_NONBLOCK), so a file swapped for a pipe meanwhile
    is caught by checking what was really opened.
    """
    try:
        kind = _kind_of(os.stat(path).st_mode)
        if kind:
            raise _fail(path, "not a file", f"{kind}, not an image file: skipped without reading it")
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
    except OSError as e:
        raise _fail(path, "unreadable", e.strerror or str(e)) from None
    try:
        kind = _kind_of(os.fstat(fd).st_mode)
        if kind:
            raise _fail(path, "not a file", f"{kind}, not an image file: skipped without reading it")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a regular file: ordinary reads from here on
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _kind_of(mode: int) -> str:
    """What a non-regular file is, in words; "" for a regular file."""
    if stat.S_ISREG(mode):
        return ""
    for test, kind in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return kind
    return "a special file"


@contextlib.contextmanager
def _opened(path: Path, max_pixels: int, min_side: int, decoding: bool = True) -> Iterator[Image.Image]:
    """Open (header only) with a safe decoder and enforce the size limits before any decoding.

    A JPEG that will be decoded is read from a strict copy of its bytes (see jpeg_scan.py).
    """
    f = _open_regular_file(path)
    try:
        if decoding:
            f = _strict_jpeg(f, path)
        with _open_image(f, path, max_pixels, min_side) as im:
            yield im
    finally:
        f.close()


def _strict_jpeg(f, path: Path):
    """For a JPEG: its bytes in memory, arranged so that data cut short fails to decode; else ``f``."""
    try:
        if f.read(3) != b"\xff\xd8\xff":
            f.seek(0)
            return f
        f.seek(0)
        data = f.read()
    except OSError as e:
        raise _fail(path, "unreadable", e.strerror or str(e)) from None
    frame = read_frame(data)
    if frame is None:
        strict = io.BytesIO(data)
    else:
        missing = missing_data(data, frame) or missing_scans(data, frame)
        if missing:
            raise _fail(path, "truncated", missing)
        strict = io.BytesIO(strict_stream(data, frame))
    f.close()
    return strict


def _open_image(f, path: Path, max_pixels: int, min_side: int) -> Image.Image:
    try:
        try:
            im = _pillow_open(f)
        except Image.DecompressionBombError as e:
            # Pillow refuses above its hard limit (2 * MAX_IMAGE_PIXELS, ~179 MP)
            # before we see the size; its message holds the pixel count.
            m = re.search(r"\((\d+) pixels\)", str(e))
            pixels = int(m[1]) if m else max_pixels + 1
            if pixels > max_pixels:
                raise _fail(path, "too large", _too_large(pixels, max_pixels)) from None
            im = _pillow_open(f, lift_limit=True)  # the caller allows more than Pillow
    except UnidentifiedImageError:  # a subclass of OSError: test it first
        raise _unidentified(f, path) from None
    except OSError as e:
        if e.errno is None:  # Pillow's own OSError: the file ends inside its header
            raise _fail(path, "truncated", f"cut short in the header: {e}") from None
        raise _fail(path, "unreadable", e.strerror or str(e)) from None
    except (SyntaxError, ValueError, EOFError, struct.error, zlib.error) as e:
        limit = header_problem(e)
        if limit:
            raise _fail(path, *limit) from None
        raise _fail(path, "not an image", f"corrupt header: {e}") from None
    w, h = im.size
    if w * h > max_pixels:
        im.close()
        raise _fail(path, "too large", f"{w}x{h} = {_too_large(w * h, max_pixels)}")
    if min(w, h) < min_side:
        im.close()
        raise _fail(path, "too small", f"{w}x{h}, shorter side below {min_side} px")
    return im


def _too_large(pixels: int, max_pixels: int) -> str:
    return f"{pixels / 1e6:.1f} megapixels, limit {max_pixels / 1e6:g}"


def _unidentified(f, path: Path) -> ImageLoadError:
    """Why no safe decoder took the file: empty, text, a format we never open, or unknown."""
    try:
        f.seek(0)
        head = f.read(64)
    except OSError as e:
        return _fail(path, "unreadable", e.strerror or str(e))
    if not head:
        return _fail(path, "not an image", "file is empty (0 bytes)")
    fmt = format_of(head, path.suffix)
    if fmt in KNOWN_NAMES:  # a format we open: cut short or damaged, not "unsupported"
        try:
            size = os.fstat(f.fileno()).st_size
        except (OSError, io.UnsupportedOperation):
            size = len(f.getbuffer())
        with _OPEN_LOCK, warnings.catch_warnings():  # see _OPEN_LOCK: warning filters are process-wide
            warnings.simplefilter("ignore")
            return _fail(path, *why_unopened(f, fmt, size))
    if fmt:
        return _fail(
            path,
            "unsupported format",
            f"{fmt}: GAN Studio opens only {', '.join(sorted(SAFE_FORMAT_NAMES))} images; export it as PNG or JPEG",
        )
    if all(32 <= b < 127 or b in b"\t\r\n" for b in head):
        return _fail(path, "not an image", "file holds text, not image data")
    return _fail(path, "not an image", "not a known image format")


def format_of(head: bytes, suffix: str = "") -> str:
    """The format a file's first bytes announce ("EPS", "PDF", ...), from magic numbers only; "" if none.

    Pillow's plug-ins recognise their formats from these bytes without
    decoding anything; plug-ins that accept any bytes are not asked, except the
    one the file's extension names: a .tga (no magic number) is a TGA, even
    though its first bytes also look like a Windows cursor's.
    """
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    named = _named_format(suffix)
    if named:
        accept = Image.OPEN[named][1]
        with contextlib.suppress(Exception):
            if accept is None or accept(head[:16]):
                return named
    if head[4:8] == b"ftyp":
        return "HEIF" if head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc") else "ISO media"
    for fmt, accept in _strong_acceptors():
        try:
            if accept(head[:16]):
                return fmt
        except Exception:
            continue
    return ""


def _named_format(suffix: str) -> str:
    """The Pillow format registered for an extension (".tga" -> "TGA"), or ""."""
    if not suffix:
        return ""
    Image.init()
    named = Image.EXTENSION.get(suffix.lower(), "")
    return named if named in Image.OPEN else ""


_MAGIC = (
    (b"%PDF", "PDF"),
    (b"%!PS", "EPS"),
    (b"\xc5\xd0\xd3\xc6", "EPS"),
    (b"8BPS", "PSD"),
    (b"<svg", "SVG"),
    (b"<?xml", "XML/SVG"),
)
_STRONG: list = []


def _strong_acceptors() -> list:
    """(format, accept) for Pillow's plug-ins whose accept test really looks at the bytes."""
    if not _STRONG:
        Image.init()
        probes = (bytes(16), b"hello, plain text", bytes(range(200, 216)))
        for fmt in Image.ID:
            accept = Image.OPEN[fmt][1]
            try:
                weak = accept is None or any(accept(p) for p in probes)
            except Exception:
                weak = True
            if not weak:
                _STRONG.append((fmt, accept))
    return _STRONG


def _decode(im: Image.Image, path: Path) -> None:
    """Decode the pixel data; a failure part-way means a damaged file."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Some library asked Pillow to fill cut files with grey, for the whole process:
        # that would pass damaged photos as good, so it is turned off again.
        log.warning("Pillow's LOAD_TRUNCATED_IMAGES was on: turned off, so damaged images are caught")
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        im.load()
    except Image.DecompressionBombError as e:  # TIFF tiles are checked at load
        raise _fail(path, "too large", str(e).split(",")[0]) from None
    except MemoryError:
        raise _fail(path, "too large", "not enough memory to decode it") from None
    except OSError as e:
        if e.errno is not None:  # a real I/O error from the disk, not bad data
            raise _fail(path, "unreadable", e.strerror or str(e)) from None
        if "truncated" in str(e):  # Pillow's words when the data ends before the picture does
            raise _fail(
                path,
                "truncated",
                "cut short: the image data stops before the picture is complete; copy it again from the original",
            ) from None
        raise _fail(path, "truncated", str(e)) from None
    except (SyntaxError, ValueError, EOFError, struct.error, zlib.error) as e:
        raise _fail(path, "truncated", str(e)) from None


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # a corrupt EXIF block must not cost the whole image
        return 1


def probe(
    path: str | os.PathLike,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int = DEFAULT_MIN_SIDE,
    verify: bool = True,
) -> tuple[int, int]:
    """(width, height) as load_rgb would return it, cheaply.

    The header checks always run. With ``verify`` the data is decoded too, to
    catch truncated files; JPEGs are decoded at 1/8 scale (libjpeg still reads
    the whole entropy-coded stream, so truncation is still detected).
    """
    path = Path(path)
    with _opened(path, max_pixels, min_side, decoding=verify) as im:
        w, h = im.size
        if _orientation(im) in (5, 6, 7, 8):  # rotated by 90 degrees
            w, h = h, w
        if verify:
            if im.format == "JPEG":
                im.draft(im.mode, (max(1, im.width // 8), max(1, im.height // 8)))
            _decode(im, path)
    return w, h


def load_rgb(
    path: str | os.PathLike,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int = DEFAULT_MIN_SIDE,
    draft_size: tuple[int, int] | None = None,
) -> Image.Image:
    """Load the first frame as 8-bit RGB, oriented and converted deliberately.

    ``draft_size`` lets JPEGs decode at a reduced scale no smaller than that
    size (for thumbnails and previews: several times faster on big photos).
    """
    path = Path(path)
    with _opened(path, max_pixels, min_side) as im:
        if draft_size and im.format == "JPEG":
            im.draft(im.mode, draft_size)
        _decode(im, path)
        if _orientation(im) != 1:
            try:
                im = ImageOps.exif_transpose(im)
            except Exception as e:  # keep the pixels even when EXIF is odd
                log.warning("%s: ignoring EXIF orientation (%s)", path, e)
        try:
            return _to_rgb(im)
        except (ValueError, OSError) as e:
            raise _fail(path, "not an image", f"cannot convert mode {im.mode}: {e}") from None


def _to_rgb(im: Image.Image) -> Image.Image:
    mode = im.mode
    keyed = "transparency" in im.info and mode in ("1", "L", "P", "RGB")
    if mode in ("LA", "La", "PA", "RGBA", "RGBa") or keyed:
        # Transparent areas become white: what viewers show and what an
        # artist drew on. Black (Pillow's plain convert) would invent edges.
        rgba = im.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", im.size, _WHITE + (255,)), rgba).convert("RGB")
    if mode == "RGB":
        return im.copy()  # detach from the file so it can be closed
    if mode.startswith("I;16") or mode == "I":
        a = np.asarray(im).astype(np.float64)
        if mode == "I" and (a.min() < 0 or a.max() > 65535):
            return _stretch(a)  # 32-bit integer data: no fixed range to keep
        # 16 -> 8 bit by the exact factor 65535/255 = 257, so grey levels keep
        # their meaning. convert("L") would clip everything above 255 to white.
        return _grey(np.rint(a / 257.0))
    if mode == "F":
        a = np.nan_to_num(np.asarray(im, dtype=np.float64))
        if a.min() >= 0 and a.max() <= 1:
            return _grey(np.rint(a * 255))  # the usual 0..1 float convention
        if a.min() >= 0 and a.max() <= 255:
            return _grey(np.rint(a))
        return _stretch(a)
    if mode == "CMYK":
        return _cmyk_to_rgb(im)
    return im.convert("RGB")  # 1, L, P, YCbCr, LAB, HSV, RGBX, ...


def _grey(a: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "L").convert("RGB")


def _stretch(a: np.ndarray) -> Image.Image:
    lo, hi = float(a.min()), float(a.max())
    return _grey((a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a))


def _cmyk_to_rgb(im: Image.Image) -> Image.Image:
    # Print files carry an ICC profile; Pillow's naive formula ignores it and
    # gives washed-out colours. Any trouble with the profile: naive is fine.
    icc = im.info.get("icc_profile")
    if icc:
        try:
            from PIL import ImageCms

            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.createProfile("sRGB")
            return ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
        except Exception as e:
            log.debug("CMYK ICC conversion failed, using plain convert: %s", e)
    return im.convert("RGB")


def natural_key(name: str) -> list:
    """Sort key so that "2.jpg" comes before "10.jpg"."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t.casefold()) for t in re.split(r"(\d+)", name) if t]


def iter_image_files(
    folder: str | os.PathLike,
    recursive: bool = False,
    skipped: list[ImageLoadError] | None = None,
    wanted: Callable[[str], bool] | None = None,
) -> Iterator[Path]:
    """Image paths in ``folder`` (by extension), naturally sorted, hidden ones skipped.

    ``wanted`` picks other files by name instead (the clips of a folder, say).

    Broken symlinks with an image extension are yielded so that callers can
    report them as unreadable rather than silently lose them. Recursion
    follows directory symlinks but never enters a real directory twice, so a
    link pointing back up the tree cannot loop.

    What the listing leaves out that a person would expect in it is appended to
    ``skipped`` with its reason: a folder named like an image (without
    recursion), a folder that cannot be listed, a link that cannot be followed.
    """
    folder = Path(folder)
    found: list[Path] = []
    visited: set[str] = set()
    skipped = [] if skipped is None else skipped
    wanted = wanted or is_image_file

    def walk(d: Path) -> None:
        real = os.path.realpath(d)
        if real in visited:
            return
        visited.add(real)
        try:
            entries = list(os.scandir(d))
        except OSError as e:
            log.warning("cannot list %s: %s", d, e)
            skipped.append(_unlistable(d, e))
            return
        for entry in entries:
            if entry.name.startswith("."):  # .DS_Store, ._AppleDouble, .git, ...
                continue
            try:
                is_dir = entry.is_dir()
            except OSError as e:  # a link that loops, or leads where we may not look
                is_dir = False
                if recursive and not wanted(entry.name):
                    skipped.append(_fail(entry.path, "unreadable", f"a link that cannot be followed ({e.strerror})"))
            if is_dir:
                if recursive:
                    walk(Path(entry.path))
                elif wanted(entry.name):
                    skipped.append(
                        _fail(entry.path, "not a file", "a folder named like an image: its contents are not read")
                    )
            elif wanted(entry.name):
                found.append(Path(entry.path))

    walk(folder)
    found.sort(key=lambda p: [natural_key(part) for part in p.relative_to(folder).parts])
    yield from found


def _unlistable(folder: Path, e: OSError) -> ImageLoadError:
    """A folder that cannot be listed, with the fix."""
    return _fail(folder, "unreadable", f"a folder that cannot be read ({e.strerror or e}): check its permissions")
