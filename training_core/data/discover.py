"""Find out what a dataset folder holds, and say so in a report a person can read.

The user points at a folder; we work out its layout (pix2pix "aligned" A|B
images, "paired" A/ and B/ folders, CycleGAN's "unpaired" domains, or a
"single" folder of photos), its splits (train/val/test), and which files
cannot be used and why. Every file is probed; a broken file becomes a
``Rejected`` entry and the rest of the dataset stays usable.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import DatasetError, ImageLoadError
from ..humanize import display_path
from .images import (
    DEFAULT_MAX_PIXELS,
    IMAGE_EXTENSIONS,
    TRAIN_MIN_SIDE,
    iter_image_files,
    load_rgb,
    natural_key,
    probe,
)

ALIGNED, PAIRED, UNPAIRED, SINGLE = "aligned", "paired", "unpaired", "single"
LAYOUTS = (ALIGNED, PAIRED, UNPAIRED, SINGLE)
SPLITS = ("train", "val", "test")

# Folder names we accept for splits, compared case-insensitively.
_SPLIT_NAMES = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}
_DOMAIN_SPLIT = re.compile(r"^(train|val|valid|validation|test)_?([ab])$")

# Two domains are "paired" when at least this share of the smaller domain's
# file names has a partner in the other domain.
PAIRED_MIN_MATCH = 0.5

# Aligned-vs-single heuristic (see _split_scores). Measured on the shared
# data: people-outlines halves correlate at 0.77..0.92 with the shifted
# control near 0; the shared photos stay at or below 0.18.
SAMPLE_SIZE = 16
MIN_HALF_CORR = 0.5  # gradient maps of the two halves must agree this much...
MIN_CORR_PEAK = 0.25  # ...and clearly more than when the right half is shifted,
MIN_SEAM = 4.0  # ...unless a hard seam runs down the middle (facades-like).

_FEW_ITEMS = 10


@dataclass
class Rejected:
    path: Path
    reason: str  # one of training_core.data.images.REASONS
    detail: str


@dataclass
class SplitItems:
    """The usable files of one split; which lists are filled depends on the layout."""

    pairs: list[tuple[Path, Path]] = field(default_factory=list)  # paired: (A, B)
    images: list[Path] = field(default_factory=list)  # aligned (A|B in one file), single
    domain_a: list[Path] = field(default_factory=list)  # unpaired
    domain_b: list[Path] = field(default_factory=list)  # unpaired

    def count(self) -> int:
        """Usable items: a pair counts once, every other image once."""
        return len(self.pairs) + len(self.images) + len(self.domain_a) + len(self.domain_b)


@dataclass
class DatasetReport:
    root: Path
    layout: str
    layout_reason: str
    splits: dict[str, SplitItems] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # "WxH" of the usable files (whole files, so aligned sizes hold both halves) -> count
    sizes: dict[str, int] = field(default_factory=dict)

    def count(self, split: str | None = None) -> int:
        if split is not None:
            return self.splits[split].count() if split in self.splits else 0
        return sum(items.count() for items in self.splits.values())

    def describe_split(self, name: str) -> str:
        """What one split holds, in words: "12 pairs", "40 A + 38 B images", "100 images"."""
        items = self.splits[name]
        if self.layout == UNPAIRED:
            return f"{len(items.domain_a)} A + {len(items.domain_b)} B images"
        if self.layout == PAIRED:
            return f"{len(items.pairs)} pairs"
        return f"{len(items.images)} images"

    def summary(self, list_rejected: bool = True) -> str:
        """The report in words; with ``list_rejected`` every rejected file follows with its reason."""
        lines = [f"{self.root}: {self.layout} ({self.layout_reason})"]
        lines += [f"  {name}: {self.describe_split(name)}" for name in self.splits]
        if self.rejected:
            by_reason = Counter(r.reason for r in self.rejected)
            grouped = ", ".join(f"{n} {reason}" for reason, n in by_reason.most_common())
            lines.append(f"  rejected {len(self.rejected)} files: {grouped}")
            if list_rejected:
                lines += [f"    {display_path(r.path)}: {r.reason} ({r.detail})" for r in self.rejected]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


# --- folder structure ----------------------------------------------------------


def _subdirs(folder: Path, notes: list[str] | None = None) -> dict[str, Path]:
    """Visible sub-folders by case-folded name, so "TrainA" and "trainA" both work.

    A link that cannot be followed (a loop, or into a folder we may not enter)
    is skipped, and named in ``notes``. Two folders whose names differ only in
    case (A/ and a/) are refused when the layout would use one: which one it
    got would be chance.
    """
    try:
        entries = [e for e in os.scandir(folder) if not e.name.startswith(".")]
    except OSError as e:
        raise DatasetError(_unreadable_folder(folder, e)) from None
    found: dict[str, Path] = {}
    for entry in sorted(entries, key=lambda e: e.name):
        try:
            if not entry.is_dir():
                continue
        except OSError as err:
            if notes is not None:
                notes.append(f"{entry.name}/ is a symbolic link that cannot be followed ({err.strerror}): skipped")
            continue
        key = entry.name.casefold()
        if key in found and _layout_name(key):
            raise DatasetError(
                f"{folder} has both {found[key].name}/ and {entry.name}/: GAN Studio cannot tell which one to "
                "use; merge them or rename one"
            )
        found.setdefault(key, Path(entry.path))
    return found


def _layout_name(name: str) -> bool:
    """Whether a (case-folded) folder name is one that a layout reads."""
    return name in _SPLIT_NAMES or name in ("a", "b") or bool(_DOMAIN_SPLIT.match(name))


def _unreadable_folder(folder: Path, e: OSError) -> str:
    return (
        f"The folder {folder} cannot be read ({e.strerror or e}): check its permissions "
        "(you need to be allowed to open and list it)"
    )


def _listed(folder: Path, rejected: list) -> list[Path]:
    """The image files in a folder the layout uses; what the listing leaves out joins ``rejected``."""
    skipped: list[ImageLoadError] = []
    files = list(iter_image_files(folder, skipped=skipped))
    for e in skipped:
        if Path(e.path) == folder:  # the folder itself: the dataset cannot be read as it is
            raise DatasetError(f"{folder} is {e.detail}")
        rejected.append(Rejected(Path(e.path), e.reason, e.detail))
    return files


def _split_dirs(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for name, path in sorted(_subdirs(folder).items()):
        if name in _SPLIT_NAMES:
            found.setdefault(_SPLIT_NAMES[name], path)
    return {s: found[s] for s in SPLITS if s in found}


def _structure(root: Path, notes: list[str]):
    """("two", {split: (dir_a, dir_b)}, description) or ("one", {split: dir}, description)."""
    sub = _subdirs(root, notes)
    # The reference CycleGAN layout: trainA/ trainB/ testA/ ...
    by_split: dict[str, dict[str, Path]] = {}
    for name, path in sorted(sub.items()):
        m = _DOMAIN_SPLIT.match(name)
        if m:
            by_split.setdefault(_SPLIT_NAMES[m[1]], {})[m[2]] = path
    two = {s: (d["a"], d["b"]) for s in SPLITS if len(d := by_split.get(s, {})) == 2}
    for d in by_split.values():
        if len(d) == 1:
            notes.append(f"{next(iter(d.values())).name}/ has no partner folder for the other domain; ignored")
    if two:
        return "two", two, "domain folders " + ", ".join(f"{a.name}/+{b.name}/" for a, b in two.values())
    # A/ and B/, possibly with train/ val/ test/ inside (pix2pix's combine_A_and_B layout)
    if "a" in sub and "b" in sub:
        a, b = sub["a"], sub["b"]
        sa, sb = _split_dirs(a), _split_dirs(b)
        common = {s: (sa[s], sb[s]) for s in SPLITS if s in sa and s in sb}
        if common:
            return "two", common, f"domain folders {a.name}/ and {b.name}/ with split sub-folders"
        return "two", {"train": (a, b)}, f"domain folders {a.name}/ and {b.name}/"
    splits = _split_dirs(root)
    if splits:
        # train/A train/B ...
        inner = {s: _subdirs(p) for s, p in splits.items()}
        two = {s: (d["a"], d["b"]) for s, d in inner.items() if "a" in d and "b" in d}
        if two:
            return "two", two, "split folders with A/ and B/ inside"
        if any(True for _ in iter_image_files(root)):
            notes.append(f"images directly in {root.name}/ are ignored because it has split folders")
        return "one", splits, "split folders " + ", ".join(p.name + "/" for p in splits.values())
    return "one", {"train": root}, "one folder of images"


# --- aligned or single: a content question --------------------------------------


def _gradient_blocks(a: np.ndarray, k: int = 4) -> np.ndarray:
    """Gradient magnitude averaged over k x k blocks: where the "stuff" is.

    Blocks forgive the few pixels by which an outline misses the photo's edge.
    """
    g = a.mean(axis=2)
    gx = np.zeros_like(g)
    gy = np.zeros_like(g)
    gx[:, 1:-1] = g[:, 2:] - g[:, :-2]
    gy[1:-1, :] = g[2:, :] - g[:-2, :]
    m = np.hypot(gx, gy)
    h, w = m.shape[0] // k * k, m.shape[1] // k * k
    return m[:h, :w].reshape(h // k, k, w // k, k).mean(axis=(1, 3))


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    x = x - x.mean()
    y = y - y.mean()
    d = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum()) / d if d > 1e-12 else 0.0


def _split_scores(im: Image.Image) -> tuple[float, float, float]:
    """(half correlation, correlation with the right half shifted, seam score).

    An aligned pair shows the same scene twice, so the gradient maps of the
    halves line up; in an ordinary photo they don't. A horizon or a texture
    lines up too, but equally well when shifted sideways, hence the control.
    The seam score catches pairs whose halves are very different (photo |
    label map): a jump between the middle columns far above the usual
    column-to-column change.
    """
    half = im.width // 2
    size = (128, max(8, round(128 * im.height / half)))  # each half to 128 px wide
    left = np.asarray(im.crop((0, 0, half, im.height)).resize(size, Image.BILINEAR), np.float32) / 255
    right = np.asarray(im.crop((half, 0, 2 * half, im.height)).resize(size, Image.BILINEAR), np.float32) / 255
    L, R = _gradient_blocks(left), _gradient_blocks(right)
    s = L.shape[1] // 4  # shift by a quarter of the half
    shifted = max(_corr(L[:, s:], R[:, :-s]), _corr(L[:, :-s], R[:, s:]))
    steps = np.abs(np.diff(np.concatenate([left, right], axis=1), axis=1)).mean(axis=(0, 2))
    seam = float(steps[size[0] - 1] / (np.median(steps) + 0.01))
    return _corr(L, R), shifted, seam


def _looks_split(scores: tuple[float, float, float]) -> bool:
    corr, shifted, seam = scores
    return corr >= MIN_HALF_CORR and (corr - max(shifted, 0.0) >= MIN_CORR_PEAK or seam >= MIN_SEAM)


def _detect_aligned(paths: list[Path], max_pixels: int, min_side: int, pool) -> tuple[bool, str]:
    step = max(1, len(paths) / SAMPLE_SIZE)
    sample = [paths[int(i * step)] for i in range(min(SAMPLE_SIZE, len(paths)))]

    def score(p):
        try:
            im = load_rgb(p, max_pixels, min_side)
        except ImageLoadError:
            return None
        return _split_scores(im) if im.width >= 16 else None

    scored = [s for s in pool.map(score, sample) if s is not None]
    if not scored:
        return False, "too few images wide enough to look for two halves"
    votes = sum(_looks_split(s) for s in scored)
    corr = float(np.median([s[0] for s in scored]))
    aligned = votes * 2 > len(scored)
    what = "show the same scene in both halves" if aligned else "look like two halves side by side"
    return aligned, f"{votes} of {len(scored)} sampled images {what} (median half similarity {corr:.2f})"


# --- the report ------------------------------------------------------------------


def discover(
    folder: str | os.PathLike,
    layout: str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int = TRAIN_MIN_SIDE,
    verify: bool = True,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> DatasetReport:
    """Probe every image under ``folder`` and report its layout, splits and rejects.

    ``layout`` forces one of LAYOUTS; None detects it. ``verify`` decodes every
    file to catch truncation (slower, but a bad file found now is not a crash
    at hour three of training). ``progress(done, total)`` is called from
    worker threads as files are probed. Setting ``cancel`` (or Ctrl-C) stops
    the scan within one file's probe: DatasetError("... cancelled").
    """
    root = Path(folder).expanduser().absolute()
    if not root.exists():
        raise DatasetError(f"Dataset folder not found: {root}")
    if not root.is_dir():
        raise DatasetError(f"{root} is a file, not a folder: choose the folder that holds the images")
    if layout is not None and layout not in LAYOUTS:
        raise DatasetError(f"Unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")

    notes: list[str] = []
    kind, dirs, where = _structure(root, notes)
    if layout in (PAIRED, UNPAIRED) and kind == "one":
        raise DatasetError(
            f"Layout {layout!r} needs two domain folders (A/ and B/, or trainA/ and trainB/), but {root} has {where}"
        )
    if layout in (ALIGNED, SINGLE) and kind == "two":
        raise DatasetError(
            f"Layout {layout!r} needs images in one folder (or train/ val/ test/), but {root} has {where}"
        )

    # Every file, by split (and by domain for two-domain layouts).
    left_out: list[Rejected] = []  # what the listings skipped: folders named like images
    files: dict[str, tuple[list[Path], list[Path]]] | dict[str, list[Path]]
    if kind == "two":
        files = {s: (_listed(a, left_out), _listed(b, left_out)) for s, (a, b) in dirs.items()}
        every = [p for fa, fb in files.values() for p in fa + fb]
    else:
        files = {s: _listed(d, left_out) for s, d in dirs.items()}
        every = [p for fs in files.values() for p in fs]
    if not every:
        raise DatasetError(_nothing_found(root, where))

    workers = workers or min(8, os.cpu_count() or 2)
    cancel = cancel or threading.Event()
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        done = itertools.count(1)

        def check(p):
            if cancel.is_set():
                return None
            result: tuple[int, int] | Rejected
            try:
                result = probe(p, max_pixels, min_side, verify)
            except ImageLoadError as e:
                result = Rejected(p, e.reason, e.detail)
            if progress:
                progress(next(done), len(every))
            return result

        probed = dict(zip(every, pool.map(check, every)))
        if cancel.is_set():
            raise DatasetError(f"Checking {root} was cancelled")
        _check_still_there(root, dirs)
        rejected = left_out + [r for r in probed.values() if isinstance(r, Rejected)]
        if len(rejected) == len(every) + len(left_out):
            raise DatasetError(_nothing_usable(root, rejected))

        report = DatasetReport(root, layout or "", "", rejected=rejected, warnings=notes)
        if kind == "two":
            _fill_two_domains(report, dirs, files, probed, layout, where)
        else:
            _fill_one_folder(report, files, probed, layout, where, max_pixels, min_side, pool)
    except BaseException:
        cancel.set()  # Ctrl-C (KeyboardInterrupt) or an error: the probes still queued return at once
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)

    usable = [
        probed[p]
        for items in report.splits.values()
        for p in items.images + items.domain_a + items.domain_b + [x for ab in items.pairs for x in ab]
    ]
    report.sizes = {f"{w}x{h}": n for (w, h), n in Counter(usable).most_common()}
    report.rejected.sort(key=lambda r: natural_key(str(r.path)))
    if report.count() == 0:
        raise DatasetError(_nothing_usable(root, report.rejected))
    _add_warnings(report, usable)
    return report


def _check_still_there(root: Path, dirs: dict) -> None:
    """A folder deleted or unplugged during the scan leaves files that were probed but are gone."""
    folders = [root] + [d for ds in dirs.values() for d in (ds if isinstance(ds, tuple) else (ds,))]
    gone = [d for d in folders if not d.is_dir()]
    if gone:
        raise DatasetError(
            f"{gone[0]} was deleted, moved or unplugged while it was being checked: "
            f"nothing from {root} can be used; open it again once it is back"
        )


def _fill_two_domains(report, dirs, files, probed, layout, where) -> None:
    def ok(p):
        return not isinstance(probed[p], Rejected)

    # Decide paired/unpaired from all file names, broken or not, so that a few
    # broken files cannot flip the decision.
    matched = smaller = 0
    for fa, fb in files.values():
        sa, sb = {p.stem.casefold() for p in fa}, {p.stem.casefold() for p in fb}
        matched += len(sa & sb)
        smaller += min(len(sa), len(sb))
    share = f"{matched} of {smaller} file names match"
    if layout is None:
        layout = PAIRED if smaller and matched >= PAIRED_MIN_MATCH * smaller else UNPAIRED
        report.layout_reason = f"{where}; {share}" + (
            ", so A and B are pairs" if layout == PAIRED else ", so the domains are unpaired"
        )
    else:
        report.layout_reason = f"layout chosen by the user; {where}; {share}"
    report.layout = layout

    for split, (fa, fb) in files.items():
        items = report.splits[split] = SplitItems()
        if layout == UNPAIRED:
            items.domain_a = [p for p in fa if ok(p)]
            items.domain_b = [p for p in fb if ok(p)]
            continue
        dir_names = [str(d.relative_to(report.root)) for d in dirs[split]]
        stems_a, stems_b = _by_stem(fa, report), _by_stem(fb, report)
        for mine, other, other_dir in ((stems_a, stems_b, dir_names[1]), (stems_b, stems_a, dir_names[0])):
            for stem, p in mine.items():
                partner = other.get(stem)
                if not ok(p):
                    continue  # already rejected for its own reason
                if partner is None:
                    report.rejected.append(Rejected(p, "unmatched pair", f"no file named {p.stem}.* in {other_dir}/"))
                elif not ok(partner):
                    report.rejected.append(
                        Rejected(
                            p,
                            "unmatched pair",
                            f"its partner {partner.name} in {other_dir}/ was rejected ({probed[partner].reason})",
                        )
                    )
                elif mine is stems_a:
                    items.pairs.append((p, partner))


def _by_stem(paths: list[Path], report: DatasetReport) -> dict[str, Path]:
    """Files by case-folded stem; a second file with the same stem cannot be paired."""
    found: dict[str, Path] = {}
    for p in paths:
        if p.stem.casefold() in found:
            report.rejected.append(
                Rejected(
                    p,
                    "unmatched pair",
                    f"{found[p.stem.casefold()].name} has the same name stem; cannot tell which one is the pair",
                )
            )
        else:
            found[p.stem.casefold()] = p
    return found


def _fill_one_folder(report, files, probed, layout, where, max_pixels, min_side, pool) -> None:
    usable = {s: [p for p in fs if not isinstance(probed[p], Rejected)] for s, fs in files.items()}
    if layout is None:
        sample = usable.get("train") or [p for ps in usable.values() for p in ps]
        aligned, why = _detect_aligned(sample, max_pixels, min_side, pool)
        layout = ALIGNED if aligned else SINGLE
        report.layout_reason = f"{where}; {why}"
    else:
        report.layout_reason = f"layout chosen by the user; {where}"
    report.layout = layout

    for split, paths in usable.items():
        items = report.splits[split] = SplitItems()
        for p in paths:
            w, h = probed[p]
            if layout == ALIGNED and min(w // 2, h) < min_side:
                # Training sees the halves, so the halves must be big enough.
                report.rejected.append(
                    Rejected(p, "too small", f"{w}x{h}: each half is {w // 2}x{h}, shorter side below {min_side} px")
                )
            else:
                items.images.append(p)


def _add_warnings(report: DatasetReport, usable: list[tuple[int, int]]) -> None:
    w = report.warnings
    train = report.splits.get("train")
    if train is None:
        w.append("no training split (train/): only " + ", ".join(report.splits) + " found")
    elif report.layout == UNPAIRED:
        for name, paths in (("A", train.domain_a), ("B", train.domain_b)):
            if len(paths) < _FEW_ITEMS:
                w.append(
                    f"only {len(paths)} usable training images in domain {name}; "
                    "a GAN needs dozens at least, hundreds for good results"
                )
    elif train.count() < _FEW_ITEMS:
        w.append(f"only {train.count()} usable training items; a GAN needs dozens at least, hundreds for good results")
    if report.layout in (ALIGNED, PAIRED) and "val" not in report.splits:
        w.append("no validation folder (val/): training holds out a few pairs to measure progress")
    if len(report.sizes) > 1:
        areas = sorted(usable, key=lambda s: s[0] * s[1])
        w.append(
            f"mixed sizes: {len(report.sizes)} different sizes from "
            f"{areas[0][0]}x{areas[0][1]} to {areas[-1][0]}x{areas[-1][1]}"
        )


def _nothing_found(root: Path, where: str) -> str:
    exts = ", ".join(sorted(IMAGE_EXTENSIONS))
    subs = sorted(p.name for p in _subdirs(root).values())
    hint = (
        (
            f"; its sub-folders ({', '.join(subs[:5])}) are not named like a known layout "
            "(train/ val/ test/, A/ B/, trainA/ trainB/)"
        )
        if subs and where == "one folder of images"
        else ""
    )
    return f"No images found in {root} ({where}; looked for {exts}){hint}"


def _nothing_usable(root: Path, rejected: list[Rejected]) -> str:
    grouped = ", ".join(f"{n} {reason}" for reason, n in Counter(r.reason for r in rejected).most_common())
    example = rejected[0]
    return (
        f"No usable image in {root}: {len(rejected)} files rejected ({grouped}); "
        f"for example {example.path.name}: {example.reason} ({example.detail})"
    )
