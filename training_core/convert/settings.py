"""The one list of conversion settings: the command line's options and the Convert tab's editors.

Each default is ``ConvertConfig``'s (config.py), and both ``gan-studio-convert``
and the app build from this list, so the same photo converted with the same
model gives the same pixels from either, and each skips what the other made.
This module loads no torch: the app builds its Convert tab from it at start-up.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import config
from ..config import ConvertConfig
from ..errors import ConfigError


@dataclass(frozen=True)
class ConvertSetting:
    name: str  # ConvertConfig's field
    label: str  # the Convert tab's
    help: str
    choices: tuple[tuple[str, Any], ...] = ()  # (the app's label, value); empty: a number or a switch
    from_text: Callable[[str], Any] | None = None  # the command line's reading, where it takes more than the choices
    to_text: Callable[[Any], str] = str  # and its spelling of a value
    off_flag: str = ""  # a switch's second option, which turns it off
    in_app: bool = True  # False: the app decides it another way (it asks where results of another model lie)
    for_clips: bool = False  # the Convert tab shows it under "Clips"
    minimum: int = 0
    maximum: int = 0

    @property
    def default(self) -> Any:
        return getattr(ConvertConfig(), self.name)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _tile(text: str) -> int:
    if text == "auto":
        return 0
    try:
        return int(text)
    except ValueError:
        raise ConfigError("--tile must be a number of pixels or auto") from None


CONVERT_SETTINGS: tuple[ConvertSetting, ...] = (
    ConvertSetting(
        "direction",
        "Direction",
        "CycleGAN models translate both ways; the others A to B only",
        (("A → B", "AtoB"), ("B → A", "BtoA")),
    ),
    ConvertSetting(
        "format",
        "Format",
        "the output files' format: same (each photo's own; GIF and the like become PNG), png, jpeg or webp",
        (("Same as input", "same"), ("PNG", "png"), ("JPEG", "jpeg"), ("WebP", "webp")),
    ),
    ConvertSetting("quality", "Quality", "JPEG and WebP quality, 1 to 100", minimum=1, maximum=100),
    ConvertSetting(
        "tile",
        "Tiles for large photos",
        "tile size in pixels for large photos, or auto (from the free memory)",
        (("Automatic", 0), ("256 px", 256), ("512 px", 512), ("1024 px", 1024), ("2048 px", 2048)),
        from_text=_tile,
        to_text=lambda value: "auto" if value == 0 else str(value),
    ),
    ConvertSetting(
        "scale",
        "Processing scale",
        "full (each photo's own resolution), model (the training scale), or a factor such as 0.5",
        (("Full resolution", "full"), ("Training scale", "model"), ("Half size", "0.5"), ("Quarter size", "0.25")),
        from_text=str,
    ),
    ConvertSetting(
        "norm",
        "Colour statistics",
        "the normalisation statistics at inference: auto (what measured best on the model's held-out "
        "images), image (each photo's own), running (the training set's)",
        (("As measured best", "auto"), ("Each photo's own", "image"), ("The training images'", "running")),
    ),
    ConvertSetting(
        "precision",
        "Precision",
        "auto: bf16 where the CPU or GPU computes it fast (within a few grey levels of fp32), else fp32",
        (("Automatic", "auto"), ("Exact (fp32)", "fp32"), ("bf16", "bf16"), ("fp16 (GPU)", "fp16")),
    ),
    ConvertSetting("recursive", "Include subfolders", "include subfolders, mirrored in the output"),
    ConvertSetting(
        "prepare_input",
        "Make the input first (as the model's training pairs were made)",
        "for a model trained on pairs made from artworks: turn each photo into lines, greyscale, flats or a "
        "blurred copy with the same settings, then paint it",
    ),
    ConvertSetting(
        "skip_existing",
        "Skip files already converted with this model and settings",
        "leave outputs this model made with these settings from these photos alone, so a rerun continues "
        "(default); --overwrite-outputs converts again over earlier outputs (inputs are never touched)",
        off_flag="--overwrite-outputs",
    ),
    ConvertSetting(
        "video_codec",
        "Video codec",
        "the converted clips' video codec: h264 (plays everywhere), hevc (smaller files) or vp9 (for WebM)",
        (("H.264", "h264"), ("HEVC (H.265)", "hevc"), ("VP9", "vp9")),
        for_clips=True,
    ),
    ConvertSetting(
        "video_quality",
        "Video quality (CRF)",
        "the converted clips' CRF: 0 best, 51 worst; 18 looks like the source, each 6 more halves the file",
        for_clips=True,
        minimum=0,
        maximum=51,
    ),
    ConvertSetting(
        "video_container",
        "Clip files",
        "the converted clips' container: mp4 (walk.mov becomes walk.mov.mp4), or same: each clip's own "
        "where it can hold the codec (MOV and MKV, WebM with vp9; any other becomes MP4)",
        (("MP4", "mp4"), ("Same as each clip where it can", "same")),
        for_clips=True,
    ),
    ConvertSetting(
        "hold_stats",
        "Hold the colour statistics across each clip (no flicker)",
        "normalise every frame of a clip with statistics measured across it, so its colours do not pump "
        "(default); --per-frame-statistics normalises each frame by its own",
        off_flag="--per-frame-statistics",
        for_clips=True,
    ),
    ConvertSetting(
        "colour_match",
        "Match each frame's colours to the first",
        "match each converted frame's colour mean and spread to the first converted frame's",
        for_clips=True,
    ),
    ConvertSetting(
        "other_model_outputs",
        "Results of another model",
        "where the output folder holds another model's results: convert into a subfolder named after "
        "this model (default), replace them, or ask (refuse, naming them)",
        tuple((value, value) for value in config.OTHER_MODEL_OUTPUTS),
        in_app=False,
    ),
)
BY_NAME = {s.name: s for s in CONVERT_SETTINGS}


def add_options(parser: argparse.ArgumentParser) -> None:
    """Every setting as an option of ``parser``, with ConvertConfig's default."""
    for s in CONVERT_SETTINGS:
        if isinstance(s.default, bool):
            group = parser.add_mutually_exclusive_group()
            group.add_argument(s.flag, dest=s.name, action="store_true", default=s.default, help=s.help)
            if s.off_flag:
                group.add_argument(s.off_flag, dest=s.name, action="store_false", help=argparse.SUPPRESS)
        elif s.from_text is not None:  # read in config_from_args, where a bad value is a ConfigError
            parser.add_argument(s.flag, dest=s.name, default=s.to_text(s.default), help=s.help)
        elif s.choices:
            values = [value for _label, value in s.choices]
            parser.add_argument(s.flag, dest=s.name, choices=values, default=s.default, help=s.help)
        else:
            parser.add_argument(s.flag, dest=s.name, type=type(s.default), default=s.default, help=s.help)


def config_from_args(args: argparse.Namespace) -> ConvertConfig:
    """The settings ``add_options`` parsed; ConfigError names a bad value."""
    values = {s.name: getattr(args, s.name) for s in CONVERT_SETTINGS}
    for s in CONVERT_SETTINGS:
        if s.from_text is not None:
            values[s.name] = s.from_text(values[s.name])
    return ConvertConfig(**values).validate()
