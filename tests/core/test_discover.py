"""Dataset discovery: layouts, splits, rejections and the report.

Fixture folders are built in tmp_path from tiny synthetic images: "aligned"
pairs are coloured shapes | their outlines (pix2pix style), "photos" are
smooth gradients with noise. Both kinds are made exactly 2:1 wide, so only
their content can tell them apart.
"""

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from training_core.data.discover import (
    ALIGNED,
    PAIRED,
    SINGLE,
    UNPAIRED,
    DatasetReport,
    discover,
)
from training_core.errors import DatasetError

SHARED = Path(__file__).parents[2].parent / "shared"


# --- synthetic images --------------------------------------------------------------------


def shapes_and_outlines(seed, w=32, h=32):
    """A pix2pix-style pair in one image: filled shapes (A) | their outlines (B)."""
    rng = np.random.default_rng(seed)
    a, b = Image.new("RGB", (w, h), "white"), Image.new("RGB", (w, h), "white")
    da, db = ImageDraw.Draw(a), ImageDraw.Draw(b)
    for _ in range(2):
        s = int(rng.integers(w // 4, w // 2))
        x, y = int(rng.integers(0, w - s)), int(rng.integers(0, h - s))
        box = [x, y, x + s, y + s]
        fill = tuple(int(c) for c in rng.integers(0, 200, 3))
        shape = (da.ellipse, db.ellipse) if rng.random() < 0.5 else (da.rectangle, db.rectangle)
        shape[0](box, fill=fill)
        shape[1](box, outline="black", width=1)
    both = Image.new("RGB", (2 * w, h))
    both.paste(a, (0, 0))
    both.paste(b, (w, 0))
    return both


def photo_like(seed, w=64, h=32):
    """Smooth colour gradients plus sensor-like noise: no two halves alike."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(w, h)
    c = rng.uniform(60, 200, 3)
    a = np.stack([c[0] * xx * 1.2, c[1] * (1 - yy), 120 + 60 * np.sin(xx * 5 + yy * 3 + seed)], -1)
    a += rng.normal(0, 10, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def landscape(seed, w=64, h=32):
    """Sky over a field: both halves share the horizon, yet it is one photo."""
    rng = np.random.default_rng(seed)
    a = np.zeros((h, w, 3))
    horizon = int(rng.integers(h // 3, 2 * h // 3))
    a[:horizon], a[horizon:] = (120, 170, 230), (60, 120, 50)
    return Image.fromarray(np.clip(a + rng.normal(0, 8, a.shape), 0, 255).astype(np.uint8))


def facade_and_labels(seed, w=32, h=32):
    """A regular facade photo | its flat label map, as in pix2pix's facades."""
    rng = np.random.default_rng(seed)
    photo = np.full((h, w, 3), 180.0) + rng.normal(0, 10, (h, w, 3))
    labels = np.zeros((h, w, 3))
    labels[:] = (0, 0, 200)
    for y in range(3, h - 6, 8):
        for x in range(2, w, 8):  # period = the control shift: only the seam tells
            photo[y : y + 5, x : x + 4] = (40, 40, 60)
            labels[y : y + 5, x : x + 4] = (0, 120, 255)
    return Image.fromarray(np.clip(np.concatenate([photo, labels], 1), 0, 255).astype(np.uint8))


def small(seed, size=(32, 32)):
    return photo_like(seed, *size)


def make(folder, names, image=small):
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        image(i).save(folder / name)
    return folder


def numbered(n, ext=".png", start=0):
    return [f"{i}{ext}" for i in range(start, start + n)]


def names_of(paths):
    return [Path(p).name for p in paths]


# --- bad files -----------------------------------------------------------------------------


def truncated(path):
    buf = io.BytesIO()
    photo_like(99).save(buf, "JPEG" if path.suffix == ".jpg" else "PNG")
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])


def bomb_png(path):
    buf = io.BytesIO()
    Image.new("L", (8, 8)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    data[16:24] = struct.pack(">II", 50_000, 50_000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))


def make_bad_files(folder):
    """Every kind of bad file, with the reason each must get."""
    (folder / "empty.jpg").write_bytes(b"")
    truncated(folder / "cut.jpg")
    truncated(folder / "cut.png")
    (folder / "readme.jpg").write_text("this is not a picture")
    bomb_png(folder / "bomb.png")
    Image.new("RGB", (1, 1)).save(folder / "dot.png")
    Image.new("L", (100_000, 1)).save(folder / "line.png")
    return {
        "empty.jpg": "not an image",
        "cut.jpg": "truncated",
        "cut.png": "truncated",
        "readme.jpg": "not an image",
        "bomb.png": "too large",
        "dot.png": "too small",
        "line.png": "too small",
    }


def make_odd_but_good_files(folder):
    """Files that look unusual but must load."""
    Image.fromarray(np.full((32, 32), 32768, np.uint16)).save(folder / "scan16.png")
    Image.new("CMYK", (32, 32), (0, 255, 255, 0)).save(folder / "print.jpg")
    p = Image.new("P", (32, 32), 0)
    p.save(folder / "sticker.png", transparency=0)
    Image.new("LA", (32, 32), (0, 128)).save(folder / "ghost.png")
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (40, 32)).save(folder / "phone.jpg", exif=exif)
    photo_like(7, 32, 32).save(folder / "été 01 .png")
    return ["scan16.png", "print.jpg", "sticker.png", "ghost.png", "phone.jpg", "été 01 .png"]


def rejected_by_name(report):
    return {r.path.name: r.reason for r in report.rejected}


# --- layout detection ----------------------------------------------------------------------


def test_aligned_pairs_are_detected_from_content(tmp_path):
    make(tmp_path, numbered(12), shapes_and_outlines)
    report = discover(tmp_path)
    assert report.layout == ALIGNED, report.layout_reason
    assert names_of(report.splits["train"].images) == numbered(12)  # natural order
    assert "sampled images" in report.layout_reason
    assert report.rejected == []


def test_photos_of_the_same_2_to_1_shape_are_single(tmp_path):
    make(tmp_path, numbered(12, ".jpg"), photo_like)
    report = discover(tmp_path)
    assert report.layout == SINGLE, report.layout_reason
    assert report.count() == 12 and report.count("train") == 12


def test_a_shared_horizon_does_not_make_photos_aligned(tmp_path):
    make(tmp_path, numbered(8), landscape)
    report = discover(tmp_path)
    assert report.layout == SINGLE, report.layout_reason


def test_photo_and_label_map_halves_are_aligned(tmp_path):
    make(tmp_path, numbered(8), facade_and_labels)
    report = discover(tmp_path)
    assert report.layout == ALIGNED, report.layout_reason


def test_aligned_with_case_insensitive_split_folders(tmp_path):
    make(tmp_path / "Train", numbered(10), shapes_and_outlines)
    make(tmp_path / "VAL", numbered(3, start=10), shapes_and_outlines)
    report = discover(tmp_path)
    assert report.layout == ALIGNED
    assert list(report.splits) == ["train", "val"]
    assert (report.count("train"), report.count("val"), report.count("test")) == (10, 3, 0)
    assert not any("validation" in w for w in report.warnings)


def test_paired_a_b_folders_reject_unmatched_files(tmp_path):
    make(tmp_path / "A", numbered(6) + ["extra.png"])
    make(tmp_path / "B", numbered(6, ".jpg"))  # same stems, other extension
    report = discover(tmp_path)
    assert report.layout == PAIRED, report.layout_reason
    pairs = report.splits["train"].pairs
    assert [(a.stem, b.stem) for a, b in pairs] == [(str(i), str(i)) for i in range(6)]
    assert all(a.parent.name == "A" and b.parent.name == "B" for a, b in pairs)
    [extra] = report.rejected
    assert (extra.path.name, extra.reason) == ("extra.png", "unmatched pair")
    assert "B/" in extra.detail and "extra" in extra.detail


def test_paired_partner_of_a_broken_file_is_rejected_too(tmp_path):
    make(tmp_path / "a", numbered(5))
    make(tmp_path / "b", numbered(5))
    truncated(tmp_path / "a" / "3.png")
    report = discover(tmp_path)
    assert report.layout == PAIRED
    assert report.count() == 4
    assert len(report.rejected) == 2
    by_dir = {r.path.parent.name: r for r in report.rejected}
    assert by_dir["a"].reason == "truncated"
    assert by_dir["b"].reason == "unmatched pair" and "rejected (truncated)" in by_dir["b"].detail


def test_cyclegan_reference_layout_is_unpaired(tmp_path):
    make(tmp_path / "trainA", [f"horse_{i}.jpg" for i in range(6)])
    make(tmp_path / "trainB", [f"zebra_{i}.jpg" for i in range(5)])
    make(tmp_path / "testA", ["h.jpg"])
    make(tmp_path / "testB", ["z.jpg"])
    report = discover(tmp_path)
    assert report.layout == UNPAIRED, report.layout_reason
    assert list(report.splits) == ["train", "test"]
    train = report.splits["train"]
    assert names_of(train.domain_a) == [f"horse_{i}.jpg" for i in range(6)]
    assert len(train.domain_b) == 5 and train.pairs == []
    assert report.rejected == []
    assert any("domain B" in w for w in report.warnings)  # fewer than 10


def test_mostly_matching_cyclegan_folders_are_paired(tmp_path):
    make(tmp_path / "trainA", numbered(4))
    make(tmp_path / "trainB", numbered(3) + ["other.png"])
    report = discover(tmp_path)
    assert report.layout == PAIRED  # 3 of 4 names match
    assert {r.path.name for r in report.rejected} == {"3.png", "other.png"}


def test_combine_a_and_b_layout_with_splits_inside(tmp_path):
    for domain in "AB":
        make(tmp_path / domain / "train", numbered(4))
        make(tmp_path / domain / "val", numbered(2))
    report = discover(tmp_path)
    assert report.layout == PAIRED
    assert (report.count("train"), report.count("val")) == (4, 2)
    a, b = report.splits["val"].pairs[0]
    assert a.parent.parent.name == "A" and b.parent.parent.name == "B"


def test_split_folders_with_domains_inside(tmp_path):
    for split in ("train", "test"):
        make(tmp_path / split / "A", numbered(3))
        make(tmp_path / split / "B", numbered(3))
    report = discover(tmp_path)
    assert report.layout == PAIRED
    assert list(report.splits) == ["train", "test"]
    assert any("validation" in w for w in report.warnings)


# --- forcing a layout ----------------------------------------------------------------------


def test_forced_layouts(tmp_path):
    make(tmp_path / "pairs" / "A", numbered(3))
    make(tmp_path / "pairs" / "B", numbered(3))
    forced = discover(tmp_path / "pairs", layout=UNPAIRED)
    assert forced.layout == UNPAIRED and len(forced.splits["train"].domain_a) == 3
    assert "chosen by the user" in forced.layout_reason

    make(tmp_path / "flat", numbered(3), shapes_and_outlines)
    assert discover(tmp_path / "flat", layout=SINGLE).layout == SINGLE
    with pytest.raises(DatasetError, match="two domain folders"):
        discover(tmp_path / "flat", layout=PAIRED)
    with pytest.raises(DatasetError, match="one folder"):
        discover(tmp_path / "pairs", layout=ALIGNED)
    with pytest.raises(DatasetError, match="Unknown layout"):
        discover(tmp_path / "flat", layout="sideways")


def test_aligned_halves_must_be_big_enough(tmp_path):
    make(tmp_path, numbered(3), shapes_and_outlines)
    Image.new("RGB", (40, 60)).save(tmp_path / "narrow.png")  # 40 wide: halves are 20 px
    report = discover(tmp_path, layout=ALIGNED)
    assert rejected_by_name(report) == {"narrow.png": "too small"}
    assert "20x60" in report.rejected[0].detail and "below 32 px" in report.rejected[0].detail
    assert discover(tmp_path, layout=SINGLE).rejected == []  # whole image is fine


def test_images_too_small_to_learn_from_are_rejected_with_the_rule(tmp_path):
    make(tmp_path, numbered(3), shapes_and_outlines)
    Image.new("RGB", (20, 10)).save(tmp_path / "tiny.png")
    Image.new("RGB", (32, 32)).save(tmp_path / "smallest.png")
    report = discover(tmp_path, layout=SINGLE)
    assert rejected_by_name(report) == {"tiny.png": "too small"}
    assert report.rejected[0].detail == "20x10, shorter side below 32 px"


# --- bad files ---------------------------------------------------------------------------------


def test_every_bad_file_is_rejected_with_its_reason_and_the_rest_stays_usable(tmp_path):
    make(tmp_path, numbered(4))
    expected = make_bad_files(tmp_path)
    good = make_odd_but_good_files(tmp_path)
    for ignored in ("notes.txt", "labels.json", ".DS_Store", ".hidden.png"):
        (tmp_path / ignored).write_text("{}")
    report = discover(tmp_path, layout=SINGLE)
    assert rejected_by_name(report) == expected
    assert sorted(names_of(report.splits["train"].images)) == sorted(numbered(4) + good)
    assert "2500.0 megapixels" in {r.path.name: r.detail for r in report.rejected}["bomb.png"]
    summary = report.summary()
    assert "rejected 7 files" in summary and "2 truncated" in summary and "2 not an image" in summary


def test_bad_files_do_not_disturb_layout_detection(tmp_path):
    make(tmp_path, numbered(10), shapes_and_outlines)
    make_bad_files(tmp_path)
    report = discover(tmp_path, workers=2)
    assert report.layout == ALIGNED
    assert report.count() == 10 and len(report.rejected) == 7


def test_symlink_loop_inside_a_dataset_does_not_hang(tmp_path):
    make(tmp_path, numbered(3))
    try:
        os.symlink(tmp_path, tmp_path / "loop", target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("this file system cannot make symlinks")
    assert discover(tmp_path, layout=SINGLE).count() == 3


# --- folders that cannot be used -------------------------------------------------------------


def test_unusable_folders_raise_clear_errors(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        discover(tmp_path / "missing")
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(DatasetError, match="not a folder"):
        discover(tmp_path / "file.png")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="No images found"):
        discover(tmp_path / "empty")
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "notes.txt").write_text("hi")
    make(tmp_path / "text" / "pictures", numbered(2))
    with pytest.raises(DatasetError, match="pictures"):  # points at the sub-folder
        discover(tmp_path / "text")
    (tmp_path / "broken").mkdir()
    make_bad_files(tmp_path / "broken")
    with pytest.raises(DatasetError, match=r"No usable image.*7 files rejected.*truncated"):
        discover(tmp_path / "broken")


# --- the report --------------------------------------------------------------------------------


def test_report_warnings_and_summary(tmp_path):
    make(tmp_path, numbered(3), shapes_and_outlines)
    shapes_and_outlines(5, 40, 36).save(tmp_path / "wide.png")
    calls = []
    report = discover(tmp_path, layout=ALIGNED, progress=lambda done, total: calls.append((done, total)))
    assert isinstance(report, DatasetReport)
    assert sorted(calls) == [(i, 4) for i in range(1, 5)]
    warnings = " | ".join(report.warnings)
    assert "only 4 usable" in warnings
    assert "mixed sizes" in warnings and "64x32" in warnings and "80x36" in warnings
    assert "validation" in warnings
    assert report.sizes == {"64x32": 3, "80x36": 1}

    assert report.layout == "aligned" and report.root == tmp_path
    assert [p.name for p in report.splits["train"].images] == numbered(3) + ["wide.png"]
    assert report.summary().splitlines()[1].strip() == "train: 4 images"


# --- real data (optional) ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(
    not (SHARED / "datasets" / "people-outlines" / "train").is_dir() or not (SHARED / "photos").is_dir(),
    reason=f"shared data not found at {SHARED} (../shared next to the repo)",
)
def test_real_data_layouts():
    outlines = discover(SHARED / "datasets" / "people-outlines" / "train")
    assert outlines.layout == ALIGNED, outlines.layout_reason
    assert outlines.count() == 100 and outlines.rejected == []
    photos = discover(SHARED / "photos")
    assert photos.layout == SINGLE, photos.layout_reason
    assert photos.count() == 8  # README.md is ignored, not rejected
    assert photos.rejected == []


# --- folders that are not what they seem ---------------------------------------------------


def deny_listing(monkeypatch, *folders):
    """os.scandir refuses these folders as a permission problem would (the tests may run as root)."""
    denied = {os.path.realpath(f) for f in folders}
    real_scandir = os.scandir

    def scandir(path="."):
        if os.path.realpath(path) in denied:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def symlink_loop(folder, name="loop"):
    try:
        os.symlink(folder / f"{name}-2", folder / name, target_is_directory=True)
        os.symlink(folder / name, folder / f"{name}-2", target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("this file system cannot make symlinks")


def test_two_domain_folders_that_differ_only_in_case_are_refused_naming_both(tmp_path):
    make(tmp_path / "A", numbered(3))
    make(tmp_path / "a", numbered(3, start=3))
    make(tmp_path / "B", numbered(3))
    if len({p.name for p in tmp_path.iterdir()}) < 3:
        pytest.skip("this file system ignores case")
    with pytest.raises(DatasetError) as info:
        discover(tmp_path)
    assert "A/" in str(info.value) and "a/" in str(info.value) and "rename" in str(info.value)


@pytest.mark.parametrize("where", ["single", "two domains"])
def test_a_looping_symlink_in_the_root_is_skipped_and_named(tmp_path, where):
    if where == "single":
        make(tmp_path, numbered(3))
    else:
        make(tmp_path / "A", numbered(3))
        make(tmp_path / "B", numbered(3))
    symlink_loop(tmp_path)
    report = discover(tmp_path, layout=SINGLE if where == "single" else UNPAIRED)
    assert report.count() == (3 if where == "single" else 6)
    named = [w for w in report.warnings if "loop" in w]
    assert named and "symbolic link" in named[0] and "skipped" in named[0], report.warnings


def test_an_unreadable_domain_folder_is_named_with_the_fix(tmp_path, monkeypatch):
    make(tmp_path / "trainA", numbered(3))
    make(tmp_path / "trainB", numbered(3))
    deny_listing(monkeypatch, tmp_path / "trainB")
    with pytest.raises(DatasetError) as info:
        discover(tmp_path)
    message = str(info.value)
    assert "trainB" in message and "cannot be read" in message and "permissions" in message
    assert "none found" not in message and "No images found" not in message


def test_a_folder_named_like_an_image_is_rejected_with_the_reason(tmp_path):
    make(tmp_path, numbered(3))
    (tmp_path / "x.jpg").mkdir()
    report = discover(tmp_path, layout=SINGLE)
    assert report.count() == 3
    assert rejected_by_name(report) == {"x.jpg": "not a file"}
    assert "x.jpg" in report.summary()


def test_a_dataset_deleted_during_the_scan_is_not_reported_as_usable(tmp_path):
    import shutil

    root = make(tmp_path / "photos", numbered(12))

    def delete_after_the_first(done, total):
        if done == 1 and root.exists():
            shutil.rmtree(root)

    with pytest.raises(DatasetError) as info:
        discover(root, layout=SINGLE, workers=1, progress=delete_after_the_first)
    assert str(root) in str(info.value) and "while it was being checked" in str(info.value)
