"""Damaged files of formats we open: each is named for what it is (cut short, damaged, a pixel
type we cannot read, oversized metadata), never "unsupported format", and none passes as good."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from training_core.data.images import load_rgb, probe
from training_core.errors import ImageLoadError


def encoded(fmt, w=64, h=48, **options) -> bytes:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(buf, fmt, **options)
    return buf.getvalue()


def photo_jpeg(w=320, h=240, **options) -> bytes:
    """A JPEG with smooth content, as cameras write them (baseline, one scan, unless ``options`` say otherwise)."""
    y, x = np.mgrid[0:h, 0:w]
    a = np.stack([x * 255 // w, y * 255 // h, (x + y) % 256], -1).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG", **{"quality": 90, **options})
    return buf.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_ihdr(width: int) -> bytes:
    data = bytearray(encoded("PNG"))
    data[16:20] = struct.pack(">I", width)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def bad_crc_png() -> bytes:
    data = bytearray(encoded("PNG"))
    data[29] ^= 0xFF  # the IHDR checksum
    return bytes(data)


def zero_width_bmp() -> bytes:
    data = bytearray(encoded("BMP"))
    data[18:22] = struct.pack("<i", 0)
    return bytes(data)


def zero_width_gif() -> bytes:
    data = bytearray(encoded("GIF"))
    pos = 13 + 3 * 2 ** ((data[10] & 7) + 1)  # after the header and the global palette
    while data[pos] == 0x21:  # extension blocks: label, then sub-blocks up to an empty one
        pos += 2
        while data[pos]:
            pos += data[pos] + 1
        pos += 1
    assert data[pos] == 0x2C  # the image descriptor: its width follows its left and top
    data[6:8] = data[pos + 5 : pos + 7] = b"\0\0"
    return bytes(data)


def tiff(samples=3, bits=32, sample_format=3, w=8, h=8) -> bytes:
    """A minimal uncompressed little-endian TIFF; sample_format 3 is IEEE floating point."""
    pixels = bytes(w * h * samples * bits // 8)
    n_tags, ifd = 11, 8
    arrays = ifd + 2 + n_tags * 12 + 4
    bits_at, format_at = arrays, arrays + 2 * samples
    data_at = format_at + 2 * samples
    tags = [
        (256, 3, 1, w),
        (257, 3, 1, h),
        (258, 3, samples, bits_at),
        (259, 3, 1, 1),
        (262, 3, 1, 2),
        (273, 4, 1, data_at),
        (277, 3, 1, samples),
        (278, 3, 1, h),
        (279, 4, 1, len(pixels)),
        (284, 3, 1, 1),
        (339, 3, samples, format_at),
    ]
    out = b"II*\0" + struct.pack("<IH", ifd, n_tags)
    for tag, kind, count, value in tags:
        packed = struct.pack("<HH", value, 0) if kind == 3 and count == 1 else struct.pack("<I", value)
        out += struct.pack("<HHI", tag, kind, count) + packed
    out += bytes(4) + struct.pack(f"<{samples}H", *[bits] * samples)
    return out + struct.pack(f"<{samples}H", *[sample_format] * samples) + pixels


def png_with_text(n_bytes: int) -> bytes:
    data = encoded("PNG", 16, 16)
    return data[:33] + png_chunk(b"tEXt", b"Comment\0" + b"x" * n_bytes) + data[33:]


def uncompressed_tga() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(buf, "TGA")
    return buf.getvalue()


def rejection(path, call=load_rgb) -> ImageLoadError:
    with pytest.raises(ImageLoadError) as info:
        call(path)
    return info.value


@pytest.mark.parametrize("call", [load_rgb, probe])
@pytest.mark.parametrize("fmt,name", [("PNG", "a.png"), ("TIFF", "a.tif"), ("BMP", "a.bmp"), ("GIF", "a.gif")])
def test_a_file_cut_inside_its_header_is_truncated_not_unsupported(tmp_path, call, fmt, name):
    path = tmp_path / name
    path.write_bytes(encoded(fmt)[:12])
    err = rejection(path, call)
    assert err.reason == "truncated", err
    assert "cut short" in err.detail and "12 bytes" in err.detail and fmt in err.detail
    assert "opens only" not in err.detail


@pytest.mark.parametrize(
    "name,data,what",
    [
        ("crc.png", bad_crc_png(), "checksum"),
        ("wide0.png", png_with_ihdr(0), "size"),
        ("wide0.bmp", zero_width_bmp(), "size"),
        ("wide0.gif", zero_width_gif(), "size"),
    ],
)
def test_a_damaged_header_is_reported_as_damaged(tmp_path, name, data, what):
    path = tmp_path / name
    path.write_bytes(data)
    for call in (load_rgb, probe):
        err = rejection(path, call)
        assert err.reason == "damaged", err
        assert what in err.detail and "opens only" not in err.detail
        assert "save it again" in err.detail or "copy it again" in err.detail


def test_a_float_rgb_tiff_says_what_it_holds_and_what_to_do(tmp_path):
    path = tmp_path / "hdr.tif"
    path.write_bytes(tiff(samples=3, bits=32, sample_format=3))
    err = rejection(path)
    assert err.reason == "unsupported format"
    assert "32-bit floating-point RGB" in err.detail
    assert "8- or 16-bit" in err.detail and "opens only" not in err.detail
    # The same builder with 8-bit integers makes a good file: the message is about the pixels.
    path.write_bytes(tiff(samples=3, bits=8, sample_format=1))
    assert load_rgb(path).size == (8, 8)


def test_a_tga_is_named_tga_not_a_cursor(tmp_path):
    path = tmp_path / "texture.tga"
    path.write_bytes(uncompressed_tga())
    err = rejection(path)
    assert err.reason == "unsupported format"
    assert err.detail.startswith("TGA") and "CUR" not in err.detail


def test_a_png_with_a_huge_metadata_chunk_is_named_for_it(tmp_path):
    path = tmp_path / "notes.png"
    path.write_bytes(png_with_text(100_000_000))
    for call in (load_rgb, probe):
        err = rejection(path, call)
        assert err.reason == "too large"
        assert "metadata" in err.detail and "100 MB" in err.detail, err.detail
        assert "corrupt header" not in err.detail


# --- JPEGs that Pillow decodes "successfully" -----------------------------------------


@pytest.mark.parametrize("options", [{}, {"progressive": True}, {"progressive": True, "optimize": True}])
def test_a_jpeg_cut_in_half_with_an_end_marker_appended_is_truncated(tmp_path, options):
    good = photo_jpeg(**options)
    path = tmp_path / "half.jpg"
    path.write_bytes(good[: len(good) // 2] + b"\xff\xd9")
    with Image.open(path) as im:
        im.load()  # what Pillow alone says: fine (the lower half is grey)
    for call in (load_rgb, probe):
        err = rejection(path, call)
        assert err.reason == "truncated" and "cut short" in err.detail, err


def test_a_tiny_jpeg_claiming_96_megapixels_is_refused_before_decoding(tmp_path):
    good = photo_jpeg(16, 16)
    sof = good.index(b"\xff\xc0")
    data = bytearray(good)
    data[sof + 5 : sof + 9] = struct.pack(">HH", 8000, 12000)  # height, width
    path = tmp_path / "claims.jpg"
    path.write_bytes(bytes(data))
    assert len(data) < 1000
    for call in (load_rgb, probe):
        err = rejection(path, call)
        assert err.reason == "truncated" and "12000x8000" in err.detail, err


@pytest.mark.parametrize(
    "options",
    [{}, {"quality": 100}, {"subsampling": 0}, {"progressive": True}, {"restart_marker_blocks": 4}, {"exif": b""}],
)
def test_whole_jpegs_still_load_with_the_same_pixels(tmp_path, options):
    path = tmp_path / "whole.jpg"
    data = encoded("JPEG", 72, 40, **options)
    path.write_bytes(data + b"trailing bytes some cameras write")
    with Image.open(io.BytesIO(data)) as im:
        expected = np.asarray(im.convert("RGB"))
    assert np.array_equal(np.asarray(load_rgb(path)), expected)
    assert probe(path) == (72, 40)


def test_a_jpeg_with_an_exif_thumbnail_is_checked_on_its_own_scan(tmp_path):
    thumb = photo_jpeg(16, 16)
    exif = Image.Exif()
    exif[0x010E] = "a photo"
    body = b"Exif\0\0" + exif.tobytes() + thumb  # a thumbnail's own scan inside APP1
    good = photo_jpeg()
    app1 = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    whole, cut = good[:2] + app1 + good[2:], good[:2] + app1 + good[2 : len(good) // 2] + b"\xff\xd9"
    (tmp_path / "whole.jpg").write_bytes(whole)
    (tmp_path / "cut.jpg").write_bytes(cut)
    assert load_rgb(tmp_path / "whole.jpg").size == (320, 240)
    assert rejection(tmp_path / "cut.jpg").reason == "truncated"


def test_decoding_stays_strict_when_another_library_allows_truncated_images(tmp_path, monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = encoded("PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) * 6 // 10])
    assert rejection(path).reason == "truncated"
