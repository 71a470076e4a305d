"""Configuration dataclasses, validated at the boundary and round-tripped through JSON.

``ModelConfig`` subclasses (one per model family) carry the network and loss
settings with each paper's defaults; ``DataConfig`` the preprocessing. Bad
values raise ``ConfigError`` naming the field and what to use instead.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from . import options
from .errors import ConfigError
from .options import DIRECTIONS, PRECISIONS, size_multiple


def _choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} {value!r} is not valid: choose one of {', '.join(allowed)}")


def _at_least(name: str, value, minimum) -> None:
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")


@dataclass  # no fields of its own; declared one so that a type checker knows what fields() gets
class _JsonConfig:
    """JSON round-trip with type checks, shared by every config dataclass."""

    section: ClassVar[str] = ""

    def validate(self):
        """Each field that is a user setting is checked against ``options.SETTINGS``."""
        for f in fields(self):
            setting = options.BY_NAME.get(f.name)
            if setting is not None and setting.section == self.section:
                setting.check(getattr(self, f.name))
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        if not isinstance(data, dict):
            raise ConfigError(f"{cls.__name__} must be a JSON object, got {type(data).__name__}")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(
                f"unknown {cls.__name__} setting(s): {', '.join(unknown)}; known ones are {', '.join(known)}"
            )
        values = {name: _coerce(name, value, type(known[name].default)) for name, value in data.items()}
        return cls(**values).validate()

    @classmethod
    def from_json(cls, text: str):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"the configuration is not valid JSON: {exc}") from None
        return cls.from_dict(data)


def _coerce(name: str, value, expected: type):
    """Accept a JSON value for a field whose default has type ``expected``."""
    if isinstance(value, expected) and not (expected is int and isinstance(value, bool)):
        return value
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    raise ConfigError(f"{name} must be {expected.__name__}, got {value!r}")


@dataclass
class ModelConfig(_JsonConfig):
    """Settings shared by both families; the subclasses set each paper's defaults."""

    family: ClassVar[str] = ""
    input_nc: int = 3
    output_nc: int = 3
    netG: str = "unet_256"
    upsample: str = "transpose"  # "resize": resize-convolution, free of checkerboard artifacts
    netD: str = "basic"
    n_layers_D: int = 3
    num_D: int = 1  # > 1: pix2pixHD's multi-scale discriminator
    spectral_norm: bool = False  # spectral normalisation of the discriminators' layers
    diff_augment: str = "none"  # DiffAugment policy for everything the discriminators see
    ngf: int = 64
    ndf: int = 64
    norm: str = "batch"
    init_type: str = "normal"
    init_gain: float = 0.02
    dropout: bool = False
    gan_mode: str = "vanilla"
    lambda_gp: float = 10.0
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    optimizer_G: str = "adam"  # adam (the papers), rmsprop, or sgd (with momentum)
    optimizer_D: str = "adam"
    momentum: float = 0.9  # for sgd (and rmsprop)
    ema_decay: float = 0.0  # > 0: translate with a moving average of the generator's weights

    section: ClassVar[str] = "model"

    def validate(self):
        super().validate()
        for name in ("input_nc", "output_nc"):  # not user settings: fixed by the data (RGB)
            if not 1 <= getattr(self, name) <= 4:
                raise ConfigError(f"{name} must be in [1, 4], got {getattr(self, name)}")
        return self

    @property
    def size_multiple(self) -> int:
        """Input width and height must be multiples of this for the generator."""
        return size_multiple(self.netG)

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.family, **super().to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        # ModelConfig.from_dict picks the family's class from the "family" key.
        if not isinstance(data, dict):
            raise ConfigError(f"the model configuration must be a JSON object, got {type(data).__name__}")
        data = dict(data)
        family = data.pop("family", cls.family or None)
        if family is None:
            raise ConfigError(f"the model configuration does not say its family ({', '.join(_config_classes())})")
        target = config_class(family)
        if cls.family and target is not cls:
            raise ConfigError(f"expected a {cls.family} configuration, got {family}")
        return super(ModelConfig, target).from_dict(data)


@dataclass
class Pix2PixConfig(ModelConfig):
    """pix2pix (Isola et al. 2017): U-Net, PatchGAN on (A, B), GAN + 100 * L1."""

    family: ClassVar[str] = "pix2pix"
    netG: str = "unet_256"
    norm: str = "batch"
    dropout: bool = True
    gan_mode: str = "vanilla"
    lambda_L1: float = 100.0
    lambda_feat: float = 0.0  # > 0: pix2pixHD's feature matching against the discriminator's layers
    lambda_ssim: float = 0.0  # > 0: also (1 - SSIM) against the target, a structural reconstruction loss


@dataclass
class CycleGANConfig(ModelConfig):
    """CycleGAN (Zhu et al. 2017): two ResNet generators, two PatchGANs, cycle + identity losses."""

    family: ClassVar[str] = "cyclegan"
    netG: str = "resnet_9blocks"
    norm: str = "instance"
    dropout: bool = False
    gan_mode: str = "lsgan"
    lambda_A: float = 10.0
    lambda_B: float = 10.0
    lambda_identity: float = 0.5
    pool_size: int = 50

    def validate(self):
        super().validate()
        if self.lambda_identity > 0 and self.input_nc != self.output_nc:
            raise ConfigError(
                f"the identity loss needs as many input as output channels "
                f"(got {self.input_nc} and {self.output_nc}); set lambda_identity to 0"
            )
        return self


@dataclass
class CUTConfig(ModelConfig):
    """CUT (Park et al. 2020): one ResNet generator, one PatchGAN, GAN + PatchNCE on the generator's
    encoder, and the same PatchNCE of G(B) against B (the identity term)."""

    family: ClassVar[str] = "cut"
    netG: str = "resnet_9blocks"
    norm: str = "instance"
    dropout: bool = False
    gan_mode: str = "lsgan"
    init_type: str = "xavier"  # the authors' code: xavier at gain 0.02
    lambda_GAN: float = 1.0
    lambda_NCE: float = 1.0
    nce_idt: bool = True  # the identity PatchNCE term on domain B
    flip_equivariance: bool = False
    num_patches: int = 256  # locations sampled per layer
    nce_T: float = 0.07  # the temperature of the similarities
    netF_nc: int = 256  # units of each projection head

    def validate(self):
        super().validate()
        if not self.netG.startswith("resnet_"):
            raise ConfigError(
                f"{self.family} reads its PatchNCE features from a ResNet generator's encoder; "
                f"netG {self.netG!r} is not one: use resnet_9blocks or resnet_6blocks"
            )
        if self.nce_idt and self.input_nc != self.output_nc:
            raise ConfigError(
                f"the identity PatchNCE term feeds B images to the A -> B generator, which needs as many "
                f"input as output channels (got {self.input_nc} and {self.output_nc}); set nce_idt off"
            )
        return self


@dataclass
class FastCUTConfig(CUTConfig):
    """FastCUT: CUT without the identity term, PatchNCE weighted 10, and flip-equivariance."""

    family: ClassVar[str] = "fastcut"
    lambda_NCE: float = 10.0
    nce_idt: bool = False
    flip_equivariance: bool = True


@dataclass
class DataConfig(_JsonConfig):
    """How training images are prepared (the papers' options).

    resize_and_crop: resize to load_size square, random crop_size crop (the default);
    crop: random crop_size crop at the image's own scale; scale_width: width to
    load_size, keeping the aspect ratio; scale_width_and_crop: that, then a
    random crop; none: the image as is. Sizes that a generator cannot take are
    rounded to the nearest multiple it needs.
    """

    preprocess: str = "resize_and_crop"
    load_size: int = 286
    crop_size: int = 256
    flip: bool = True
    direction: str = "AtoB"

    section: ClassVar[str] = "data"

    def validate(self):
        super().validate()
        if "crop" in self.preprocess and self.load_size < self.crop_size and self.preprocess != "crop":
            raise ConfigError(f"load_size ({self.load_size}) must be at least crop_size ({self.crop_size})")
        return self

    def check_networks(self, model: ModelConfig) -> None:
        """Refuse crop sizes the networks cannot take, before training starts."""
        if "crop" not in self.preprocess:
            return  # sizes are rounded to what the generator needs instead
        multiple = model.size_multiple
        if self.crop_size % multiple:
            raise ConfigError(
                f"crop_size {self.crop_size} is not a multiple of {multiple}, which {model.netG} "
                f"needs; use {max(multiple, round(self.crop_size / multiple) * multiple)}"
            )
        # A PatchGAN's last layers need at least 2x2 positions to normalise over; the image
        # discriminator halves the size n_layers + 1 times.
        layers = {"basic": 3, "n_layers": model.n_layers_D, "pixel": 0, "image": model.n_layers_D}[model.netD]
        smallest = (2 ** (layers + 2) if model.netD == "image" else 3 * 2**layers) if layers else 1
        smallest <<= model.num_D - 1  # each further scale halves the image again
        if self.crop_size < smallest:
            kind = "image discriminator" if model.netD == "image" else "PatchGAN"
            scales = f" at {model.num_D} scales" if model.num_D > 1 else ""
            raise ConfigError(
                f"crop_size {self.crop_size} is too small for a {layers}-layer {kind}{scales}; "
                f"use at least {smallest} or fewer discriminator layers{' or scales' if scales else ''}"
            )


@dataclass
class TrainConfig(_JsonConfig):
    """How long and how a run trains; everything counted in iterations (one batch each).

    lr_policy "linear" is the papers' schedule: constant, then a linear decay
    to zero over the last (1 - lr_decay_start) of the run. "step" divides the
    rate by 10 every lr_step_iters; "cosine" anneals to zero; "plateau"
    multiplies it by plateau_factor when the held-out L1 (or, without held-out
    pairs, the generator's training loss) has not improved for
    plateau_patience sample points.
    """

    section: ClassVar[str] = "train"

    iterations: int = 2000
    batch_size: int = 1
    lr_policy: str = "linear"
    lr_decay_start: float = 0.5
    lr_step_iters: int = 0  # 0: a third of the run
    plateau_patience: int = 5
    plateau_factor: float = 0.2  # with patience 5: the reference implementation's plateau policy
    seed: int = 0
    precision: str = "auto"
    sample_every: int = 100
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    preview_count: int = 4
    val_fraction: float = 0.1  # held out when the dataset has no val/ folder
    max_val_items: int = 50
    num_workers: int = -1  # data-loading processes; -1: none on a CPU-only machine, a few beside a GPU
    compile: bool = False  # torch.compile the networks (CUDA graphs on CUDA)
    deterministic: bool = False  # CUDA: deterministic kernels (a resumed run is bit-identical)
    # Under torchrun each process takes batch_size samples: the effective batch is batch_size x processes.
    scale_lr: bool = False  # multiply lr by the number of processes (the linear scaling rule)
    sync_batchnorm: bool = False  # batch-norm statistics over all processes (CUDA; instance norm needs none)


OUTPUT_FORMATS = ("same", "png", "jpeg", "webp")
VIDEO_CODECS = ("h264", "hevc", "vp9")
VIDEO_CONTAINERS = ("mp4", "same")
NORM_CHOICES = ("auto", "image", "running")
# Where a folder already holds results of another model: a subfolder named after this model (so
# nothing of the other is replaced), replace them, or refuse and say so (the app then asks).
OTHER_MODEL_OUTPUTS = ("subfolder", "replace", "ask")


def _config_classes(base: type[ModelConfig] = ModelConfig) -> dict[str, type[ModelConfig]]:
    """Every family's config class, by family name: the ModelConfig subclasses that name one."""
    found = {}
    for cls in base.__subclasses__():
        if cls.family:
            found[cls.family] = cls
        found.update(_config_classes(cls))
    return found


def config_class(family: str) -> type[ModelConfig]:
    classes = _config_classes()
    if family not in classes:
        raise ConfigError(f"model family {family!r} is not known: choose one of {', '.join(classes)}")
    return classes[family]


@dataclass
class ConvertConfig(_JsonConfig):
    """A batch conversion: which files, how to write them, and how to translate.

    scale: "full" (the photo's own resolution), "model" (the training scale) or
    a factor such as "0.5". norm: "auto" uses what the model recorded as best
    on its held-out pairs. tile: 0 picks the tile size from free memory.
    """

    direction: str = "AtoB"
    recursive: bool = False
    format: str = "same"
    quality: int = 95
    skip_existing: bool = True
    tile: int = 0
    scale: str = "full"
    norm: str = "auto"
    precision: str = "auto"
    other_model_outputs: str = "subfolder"
    prepare_input: bool = False  # make each photo into the model's kind of training input first
    # Clips (a folder's, or one given as --input; convert/video.py): the output's video codec, its
    # CRF, its container, and the two measures against flicker.
    video_codec: str = "h264"
    video_quality: int = 18  # CRF: 0 best, 51 worst; 18 looks like the source
    video_container: str = "mp4"  # or "same": the clip's own, where it can hold the codec
    hold_stats: bool = True  # one set of normalisation statistics for the whole clip
    colour_match: bool = False  # each frame's colours matched to the first converted frame's

    def validate(self):
        _choice("direction", self.direction, DIRECTIONS)
        _choice("video_codec", self.video_codec, VIDEO_CODECS)
        _choice("video_container", self.video_container, VIDEO_CONTAINERS)
        if not 0 <= self.video_quality <= 51:
            raise ConfigError(f"video_quality (a CRF) must be 0 to 51, got {self.video_quality}")
        _choice("other_model_outputs", self.other_model_outputs, OTHER_MODEL_OUTPUTS)
        _choice("format", self.format, OUTPUT_FORMATS)
        _choice("norm", self.norm, NORM_CHOICES)
        _choice("precision", self.precision, PRECISIONS)
        if not 1 <= self.quality <= 100:
            raise ConfigError(f"quality must be between 1 and 100, got {self.quality}")
        _at_least("tile", self.tile, 0)
        if self.scale not in ("full", "model"):
            try:
                factor = float(self.scale)
            except ValueError:
                raise ConfigError(
                    f"scale {self.scale!r} is not valid: use full, model, or a factor such as 0.5"
                ) from None
            if not 0 < factor <= 4:
                raise ConfigError(f"scale factor must be in (0, 4], got {factor}")
        return self
