"""Safe image loading: every awkward file either loads as expected or is
rejected with the right reason code. All images are tiny and made here."""

import io
import os
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from training_core.data import images
from training_core.data.images import (
    DEFAULT_MAX_PIXELS,
    IMAGE_EXTENSIONS,
    REASONS,
    iter_image_files,
    load_rgb,
    probe,
)
from training_core.errors import ImageLoadError

# --- builders for awkward files ------------------------------------------------------


def noise(w=64, h=48, seed=0):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def truncated(path, fmt):
    buf = io.BytesIO()
    noise().save(buf, fmt)
    data = buf.getvalue()
    path.write_bytes(data[: len(data) * 6 // 10])  # the header survives, the data doesn't
    return path


def png_claiming(path, width, height):
    """A tiny valid PNG whose IHDR claims another size: a decompression bomb header."""
    buf = io.BytesIO()
    Image.new("L", (8, 8)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    # 8-byte signature, then IHDR: length(4) type(4) width(4) height(4) ... crc(4)
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


def reason_of(call, *args, **kwargs):
    with pytest.raises(ImageLoadError) as info:
        call(*args, **kwargs)
    return info.value


# --- constants --------------------------------------------------------------------------


def test_reason_codes_and_extensions_are_the_documented_ones():
    assert set(REASONS) == {
        "unreadable",
        "not an image",
        "truncated",
        "damaged",
        "too large",
        "too small",
        "unmatched pair",
        "unsupported format",
        "not a file",
    }
    assert {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif"} == IMAGE_EXTENSIONS
    assert DEFAULT_MAX_PIXELS >= 50_000_000


# --- rejections -------------------------------------------------------------------------


@pytest.mark.parametrize("call", [load_rgb, probe])
def test_zero_byte_file_is_not_an_image(tmp_path, call):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    err = reason_of(call, path)
    assert err.reason == "not an image"
    assert "empty (0 bytes)" in err.detail
    assert err.path == path


def test_text_named_jpg_is_not_an_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("shopping list: eggs, milk\n")
    err = reason_of(load_rgb, path)
    assert err.reason == "not an image"
    assert "text" in err.detail


@pytest.mark.parametrize("fmt,name", [("JPEG", "cut.jpg"), ("PNG", "cut.png")])
def test_truncated_files_are_caught_by_verify(tmp_path, fmt, name):
    path = truncated(tmp_path / name, fmt)
    assert probe(path, verify=False) == (64, 48)  # the header alone looks fine
    assert reason_of(probe, path).reason == "truncated"
    assert reason_of(load_rgb, path).reason == "truncated"


def test_file_cut_inside_its_header_is_truncated(tmp_path):
    path = tmp_path / "stub.jpg"
    buf = io.BytesIO()
    noise().save(buf, "JPEG")
    path.write_bytes(buf.getvalue()[:200])  # inside the quantisation/Huffman tables
    assert reason_of(probe, path, verify=False).reason == "truncated"


@pytest.mark.parametrize("call", [load_rgb, probe])
def test_decompression_bomb_is_rejected_from_the_header(tmp_path, call):
    path = png_claiming(tmp_path / "bomb.png", 50_000, 50_000)
    err = reason_of(call, path)
    assert err.reason == "too large"
    assert "2500.0 megapixels" in err.detail


def test_our_limit_protects_even_without_pillows(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    path = png_claiming(tmp_path / "bomb.png", 20_000, 10_000)
    assert reason_of(probe, path, verify=False).reason == "too large"


def test_size_between_pillows_warning_and_our_limit_passes_quietly(tmp_path):
    # 95 MP: above Pillow's warning threshold (~89 MP), below our 100 MP default.
    path = png_claiming(tmp_path / "big.png", 10_000, 9_500)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert probe(path, verify=False) == (10_000, 9_500)


def test_limit_above_pillows_hard_limit_is_honoured(tmp_path):
    # 200 MP: Pillow itself refuses above ~179 MP, but the caller allowed 300 MP.
    path = png_claiming(tmp_path / "huge.png", 20_000, 10_000)
    assert reason_of(probe, path, verify=False).reason == "too large"
    assert probe(path, max_pixels=300_000_000, verify=False) == (20_000, 10_000)
    assert Image.MAX_IMAGE_PIXELS is not None  # Pillow's own limit was restored


def test_max_pixels_and_min_side_are_parameters(tmp_path):
    path = tmp_path / "small.png"
    noise(20, 10).save(path)
    assert reason_of(probe, path, max_pixels=199).reason == "too large"
    assert reason_of(probe, path, min_side=11).reason == "too small"
    assert probe(path, max_pixels=200, min_side=10) == (20, 10)


@pytest.mark.parametrize("size", [(1, 1), (100_000, 1)])
def test_degenerate_sizes_are_too_small(tmp_path, size):
    path = tmp_path / "thin.png"
    Image.new("L", size, 128).save(path)
    err = reason_of(load_rgb, path)
    assert err.reason == "too small"
    assert f"{size[0]}x{size[1]}" in err.detail


def test_a_missing_file_is_unreadable_and_a_folder_is_not_a_file(tmp_path):
    assert reason_of(load_rgb, tmp_path / "gone.png").reason == "unreadable"
    (tmp_path / "folder.jpg").mkdir()
    err = reason_of(probe, tmp_path / "folder.jpg")
    assert err.reason == "not a file" and "a folder" in err.detail


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_permission_denied_is_unreadable(tmp_path):
    path = tmp_path / "locked.png"
    noise().save(path)
    path.chmod(0)
    try:
        assert reason_of(load_rgb, path).reason == "unreadable"
    finally:
        path.chmod(0o644)


# --- deliberate conversions -------------------------------------------------------------


def test_rgb_round_trips_exactly(tmp_path):
    path = tmp_path / "rgb.png"
    src = noise()
    src.save(path)
    out = load_rgb(path)
    assert out.mode == "RGB"
    assert np.array_equal(np.asarray(out), np.asarray(src))


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    path = tmp_path / "scan16.png"
    values = np.array([[0, 32768, 65535, 257 * 10]] * 8, np.uint16).repeat(2, axis=1)
    Image.fromarray(values).save(path)
    assert Image.open(path).mode.startswith("I")
    out = np.asarray(load_rgb(path))
    assert out.shape == (8, 8, 3)
    got = out[0, ::2, 0].astype(int)
    assert got[0] == 0 and got[2] == 255 and got[3] == 10
    assert abs(got[1] - 128) <= 1  # clipping would give 255


def test_16_bit_big_endian_tiff_is_scaled(tmp_path):
    path = tmp_path / "scan16b.tif"
    raw = np.full((8, 8), 32768, ">u2").tobytes()
    Image.frombytes("I;16B", (8, 8), raw).save(path)
    assert abs(int(load_rgb(path).getpixel((0, 0))[0]) - 128) <= 1


def test_float_image_in_0_1_is_scaled(tmp_path):
    path = tmp_path / "float.tif"
    Image.fromarray(np.full((8, 8), 0.5, np.float32)).save(path)
    assert abs(int(load_rgb(path).getpixel((0, 0))[0]) - 128) <= 1


def test_cmyk_jpeg_becomes_rgb_even_with_a_broken_icc_profile(tmp_path):
    path = tmp_path / "print.jpg"
    # Pure magenta+yellow ink is red; the garbage profile must fall back, not fail.
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(path, icc_profile=b"not a profile" * 8)
    assert Image.open(path).mode == "CMYK"
    r, g, b = load_rgb(path).getpixel((8, 8))
    assert r > 200 and g < 60 and b < 60


def test_palette_transparency_becomes_white(tmp_path):
    path = tmp_path / "sticker.png"
    im = Image.new("P", (16, 16), 1)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.paste(0, (0, 0, 8, 16))  # index 0 is black in the palette but transparent
    im.save(path, transparency=0)
    out = load_rgb(path)
    assert out.getpixel((2, 2)) == (255, 255, 255)  # plain convert would give black
    assert out.getpixel((12, 2)) == (255, 0, 0)


def test_la_and_rgba_composite_on_white(tmp_path):
    la = Image.new("LA", (16, 16), (0, 255))
    la.paste((0, 0), (0, 0, 8, 16))
    la.save(tmp_path / "la.png")
    out = load_rgb(tmp_path / "la.png")
    assert out.getpixel((2, 2)) == (255, 255, 255)
    assert out.getpixel((12, 2)) == (0, 0, 0)
    Image.new("RGBA", (16, 16), (0, 0, 0, 128)).save(tmp_path / "half.png")
    assert abs(load_rgb(tmp_path / "half.png").getpixel((0, 0))[0] - 127) <= 1


@pytest.mark.parametrize("mode", ["1", "L"])
def test_bilevel_and_grey_become_rgb(tmp_path, mode):
    path = tmp_path / f"{mode}.png"
    Image.new(mode, (16, 16), 255 if mode == "L" else 1).save(path)
    out = load_rgb(path)
    assert out.mode == "RGB" and out.getpixel((0, 0)) == (255, 255, 255)


def test_exif_orientation_is_applied(tmp_path):
    path = tmp_path / "phone.jpg"
    im = Image.new("RGB", (40, 20), (0, 0, 255))
    im.paste((255, 0, 0), (0, 0, 20, 20))  # stored: red left, blue right
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    im.save(path, exif=exif, quality=95)
    out = load_rgb(path)
    assert out.size == (20, 40)
    assert probe(path) == (20, 40)
    top, bottom = out.getpixel((10, 5)), out.getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60  # red came to the top
    assert bottom[2] > 200 and bottom[0] < 60


def test_multi_frame_gif_gives_the_first_frame(tmp_path):
    path = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    assert load_rgb(path).getpixel((8, 8)) == (255, 0, 0)


@pytest.mark.parametrize("name", ["été photo 1.png", "写真 2.jpg", "  spaced  .png"])
def test_unicode_and_space_filled_names(tmp_path, name):
    path = tmp_path / name
    noise().save(path)
    assert load_rgb(path).size == (64, 48)
    assert list(iter_image_files(tmp_path)) == [path]


# --- listing folders --------------------------------------------------------------------


def test_iter_image_files_sorts_naturally_and_skips_hidden_and_non_images(tmp_path):
    for name in ["10.jpg", "2.jpg", "1.PNG", ".hidden.jpg", "notes.txt", "meta.json", ".DS_Store"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "3.jpg").write_bytes(b"x")
    assert [p.name for p in iter_image_files(tmp_path)] == ["1.PNG", "2.jpg", "10.jpg"]


def test_recursive_listing_survives_a_symlink_loop(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.png").write_bytes(b"x")
    (tmp_path / "top.png").write_bytes(b"x")
    try:
        os.symlink(tmp_path, tmp_path / "a" / "b" / "loop", target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("this file system cannot make symlinks")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_image_files(tmp_path, recursive=True)]
    assert found == ["a/b/x.png", "top.png"]
    assert [p.name for p in iter_image_files(tmp_path)] == ["top.png"]


def test_broken_symlink_is_listed_and_reported_unreadable(tmp_path):
    try:
        os.symlink(tmp_path / "nowhere.png", tmp_path / "dangling.png")
    except (OSError, NotImplementedError):
        pytest.skip("this file system cannot make symlinks")
    assert [p.name for p in iter_image_files(tmp_path)] == ["dangling.png"]
    assert reason_of(probe, tmp_path / "dangling.png").reason == "unreadable"


def test_probe_in_threads_matches_serial(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    paths = []
    for i in range(12):
        paths.append(tmp_path / f"{i}.png")
        noise(16 + i, 16).save(paths[-1])
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(probe, paths)) == [(16 + i, 16) for i in range(12)]
    assert not images._OPEN_LOCK.locked()


# --- entries a listing leaves out, and says why -------------------------------------------


def deny_listing(monkeypatch, *folders):
    """os.scandir refuses these folders as a permission problem would (the tests may run as root)."""
    denied = {os.path.realpath(f) for f in folders}
    real_scandir = os.scandir

    def scandir(path="."):
        if os.path.realpath(path) in denied:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_a_folder_named_like_an_image_is_listed_as_skipped_with_the_reason(tmp_path):
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "x.jpg").mkdir()
    (tmp_path / "x.jpg" / "inner.png").write_bytes(b"x")
    skipped = []
    assert [p.name for p in iter_image_files(tmp_path, skipped=skipped)] == ["a.png"]
    assert [(e.path.name, e.reason) for e in skipped] == [("x.jpg", "not a file")]
    assert "folder" in skipped[0].detail
    # With subfolders its pictures are converted, so nothing is left out.
    skipped = []
    found = [p.relative_to(tmp_path).as_posix() for p in iter_image_files(tmp_path, True, skipped=skipped)]
    assert found == ["a.png", "x.jpg/inner.png"] and skipped == []


def test_an_unreadable_subfolder_is_listed_as_skipped_with_the_fix(tmp_path, monkeypatch):
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "1.png").write_bytes(b"x")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "2.png").write_bytes(b"x")
    deny_listing(monkeypatch, tmp_path / "locked")
    skipped = []
    assert [p.name for p in iter_image_files(tmp_path, recursive=True, skipped=skipped)] == ["1.png"]
    assert [(e.path.name, e.reason) for e in skipped] == [("locked", "unreadable")]
    assert "Permission denied" in skipped[0].detail and "permissions" in skipped[0].detail
    # Without subfolders it was never going to be read: nothing to say.
    skipped = []
    assert list(iter_image_files(tmp_path, skipped=skipped)) == [] and skipped == []


def test_an_unreadable_top_folder_is_listed_as_skipped(tmp_path, monkeypatch):
    deny_listing(monkeypatch, tmp_path)
    skipped = []
    assert list(iter_image_files(tmp_path, skipped=skipped)) == []
    assert [(e.path, e.reason) for e in skipped] == [(tmp_path, "unreadable")]
