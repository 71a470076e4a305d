"""Make a paired dataset from one folder of artworks: each artwork is the target (B), its made input the A side.

The dataset is laid out as GAN Studio detects a paired one (``A/train``,
``A/val``, ``B/train``, ``B/val`` with matching names), with a held-out share
chosen by each artwork's name (so adding artworks never moves others between
splits), a manifest recording the kind and its settings, and a report naming
every artwork used or rejected with the reason. The artworks are only read;
the output folder can be neither the artworks' folder nor inside it, and a
rerun into it replaces only what an earlier run made there.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DatasetError, ImageLoadError
from ..folder_identity import identity, within
from ..fsutil import atomic_path, atomic_write_text, read_regular_text
from ..humanize import display_path
from .images import TRAIN_MIN_SIDE, iter_image_files, load_rgb
from .pair_makers import PairSettings, make_input, working_copy

MANIFEST = "gan-studio-pairs.json"
REPORT = "gan-studio-pairs-report.txt"
FORMAT = 1


@dataclass
class PairsReport:
    artworks: Path
    output: Path
    settings: PairSettings
    used: dict[str, str] = field(default_factory=dict)  # artwork name -> split
    rejected: dict[str, str] = field(default_factory=dict)  # artwork name -> why
    cancelled: bool = False

    def summary(self) -> str:
        splits = list(self.used.values())
        made = f"{len(splits)} pairs ({splits.count('train')} to train on, {splits.count('val')} held out)"
        return made + (f", {len(self.rejected)} artworks not used" if self.rejected else "")

    def text(self) -> str:
        own = ", ".join(f"{k} {v}" for k, v in self.settings.own().items() if k != "kind")
        lines = [
            f"GAN Studio training pairs ({self.settings.kind}: {own})",
            f"from {display_path(self.artworks)}",
            f"to   {display_path(self.output)}",
            self.summary() + (" (cancelled)" if self.cancelled else ""),
            "",
        ]
        lines += [f"NOT USED  {name}: {why}" for name, why in self.rejected.items()]
        return "\n".join(lines) + "\n"


def pair_name(artwork_name: str) -> str:
    """Both sides are lossless PNG, named after the artwork's whole name ("a.jpg" -> "a.jpg.png")."""
    return artwork_name if artwork_name.lower().endswith(".png") else artwork_name + ".png"


def split_of(artwork_name: str, val_percent: int) -> str:
    digest = hashlib.blake2b(artwork_name.encode("utf-8", "surrogateescape"), digest_size=4).digest()
    return "val" if int.from_bytes(digest, "big") % 100 < val_percent else "train"


def check_folders(artworks: Path, output: Path) -> None:
    """Refuse, before anything is written, an output that is the artworks' folder, in it, or holds it,
    and an output folder that holds files of its own (other than an earlier run's dataset)."""
    if not artworks.is_dir():
        raise DatasetError(f"{display_path(artworks)} is not a folder: choose the folder that holds the artworks")
    source = identity(artworks)
    if within(output, source):
        raise DatasetError(
            f"the output folder {display_path(output)} is the artworks' folder or inside it: "
            "choose a folder outside it, so that no artwork is ever overwritten"
        )
    if within(artworks, identity(output)):
        raise DatasetError(f"the artworks' folder is inside the output folder {display_path(output)}: choose another")
    if output.is_dir() and not (output / MANIFEST).is_file() and any(os.scandir(output)):
        raise DatasetError(
            f"{display_path(output)} already holds files that GAN Studio did not make: choose an empty or new folder"
        )


def make_pairs(
    artworks: Path,
    output: Path,
    settings: PairSettings,
    val_percent: int = 10,
    on_progress: Callable[[int, int, str], None] | None = None,
    cancel: threading.Event | None = None,
) -> PairsReport:
    """Make the dataset; DatasetError (nothing written) for bad folders or when no artwork is usable."""
    artworks, output = Path(artworks).absolute(), Path(output).absolute()
    settings.validate()
    if not 0 <= val_percent <= 50:
        raise DatasetError(f"the held-out share must be from 0 to 50 percent, got {val_percent}")
    check_folders(artworks, output)
    skipped: list[ImageLoadError] = []
    candidates = list(iter_image_files(artworks, recursive=False, skipped=skipped))
    report = PairsReport(artworks, output, settings)
    report.rejected.update({Path(e.path).name: f"{e.reason}: {e.detail}" for e in skipped})
    if not candidates:
        raise DatasetError(f"{display_path(artworks)} holds no image to make pairs from (PNG, JPEG, WebP, TIFF, BMP)")
    earlier = _earlier_outputs(output)
    made: dict[str, dict] = {}
    for done, path in enumerate(candidates):
        if cancel is not None and cancel.is_set():
            report.cancelled = True
            break
        name = path.name
        try:
            artwork = load_rgb(path, min_side=TRAIN_MIN_SIDE)
        except ImageLoadError as exc:
            report.rejected[name] = f"{exc.reason}: {exc.detail}"
            continue
        target = working_copy(artwork, settings.working_side)
        split = split_of(name, val_percent)
        pair = pair_name(name)
        for side, image in (("B", target), ("A", make_input(target, settings))):
            with atomic_path(output / side / split / pair) as tmp:
                image.save(tmp, format="PNG")
        made[pair] = {"artwork": name, "split": split}
        report.used[name] = split
        if on_progress is not None:
            on_progress(done + 1, len(candidates), name)
    if not made and not report.cancelled:
        raise DatasetError(
            f"no artwork in {display_path(artworks)} could be used: "
            + "; ".join(f"{n}: {why}" for n, why in list(report.rejected.items())[:5])
        )
    if not report.cancelled:
        _remove_stale(output, earlier, made)
    manifest = {"format": FORMAT, "settings": settings.own(), "val_percent": val_percent, "pairs": made}
    if report.cancelled:  # what a cancelled run made stays listed, so a rerun may replace it
        manifest["pairs"] = {**earlier, **made}
    if made or earlier:
        atomic_write_text(output / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=True))
        atomic_write_text(output / REPORT, report.text())
    return report


def read_manifest(folder: Path) -> dict | None:
    """A pairs dataset's manifest, or None where the folder has none (or a damaged one)."""
    try:
        item = json.loads(read_regular_text(Path(folder) / MANIFEST))
    except (OSError, ValueError, RecursionError):
        return None
    return item if isinstance(item, dict) and isinstance(item.get("settings"), dict) else None


def pair_maker_of(dataset_root: Path) -> dict:
    """{"pair_maker": its settings} for a dataset made from artworks, for the model's record; else {}.

    A model trained on it can then convert photos through the same pair maker (``--prepare-input``).
    """
    manifest = read_manifest(dataset_root)
    return {"pair_maker": manifest["settings"]} if manifest else {}


def _earlier_outputs(output: Path) -> dict[str, dict]:
    manifest = read_manifest(output)
    pairs = manifest.get("pairs") if manifest else None
    return {str(k): v for k, v in pairs.items() if isinstance(v, dict)} if isinstance(pairs, dict) else {}


def _remove_stale(output: Path, earlier: dict[str, dict], made: dict[str, dict]) -> None:
    """Pairs an earlier run made whose artwork is gone (or moved split): the dataset mirrors the folder."""
    for pair, item in earlier.items():
        if pair in made and made[pair].get("split") == item.get("split"):
            continue
        split = item.get("split")
        if split not in ("train", "val") or Path(pair).name != pair:
            continue  # never a path out of the dataset, whatever the manifest says
        for side in ("A", "B"):
            try:
                os.unlink(output / side / split / pair)
            except FileNotFoundError:
                pass
