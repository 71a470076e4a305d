"""The one list of user settings: name, type, allowed values, help, and where each belongs.

The configuration dataclasses validate against it, the CLI's options and the
app's Advanced settings are generated from it, and the presets name its
entries. Each family's defaults (the papers' values) stay on its config
dataclass; ``training_core.presets.defaults`` gives them per family and preset.
This module loads no torch: the app and ``gan-studio-models`` import it at
start-up.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .errors import ConfigError

# -- allowed values, one home each (networks.py and losses.py take theirs from here) --------
NORMS = ("batch", "instance", "none")
INIT_TYPES = ("normal", "xavier", "kaiming", "orthogonal")
DISCRIMINATORS = ("basic", "n_layers", "pixel", "image")
GAN_MODES = ("vanilla", "lsgan", "wgangp")
OPTIMIZERS = ("adam", "rmsprop", "sgd")
PREPROCESS_MODES = ("resize_and_crop", "crop", "scale_width", "scale_width_and_crop", "none")
DIRECTIONS = ("AtoB", "BtoA")
LR_POLICIES = ("linear", "step", "cosine", "plateau", "constant")
DEVICE_CHOICES = ("auto", "cuda", "mps", "cpu")  # or cuda:N
PRECISIONS = ("auto", "fp32", "bf16", "fp16")  # auto: bf16 where the hardware is fast at it
UPSAMPLING = ("transpose", "resize")
AUGMENT_POLICIES = ("none", "translation", "translation,cutout", "color,translation,cutout")
GENERATORS = ("unet_256", "unet_128", "resnet_9blocks", "resnet_6blocks")  # the papers'; others by pattern

MAX_WIDTH = 256  # ngf/ndf: the papers use 64; 256 already makes a U-Net of 0.9 billion weights
MAX_UNET_SIZE = 2048  # a generator name is user data: bound what it may ask to build
MAX_RESNET_BLOCKS = 64
MAX_IMAGE_SIZE = 8192  # crop and load sizes
_UNET = re.compile(r"^unet_(\d+)$")
_RESNET = re.compile(r"^resnet_(\d+)blocks$")


def parse_generator(name: str) -> tuple[str, int]:
    """Split a generator name into its kind and size: ``unet_256`` -> ("unet", 8 downsamplings)."""
    if not isinstance(name, str):
        raise ConfigError(f"netG must be a generator name, got {type(name).__name__}")
    if (m := _UNET.match(name)) and len(m.group(1)) <= 5:
        size = int(m.group(1))
        if 32 <= size <= MAX_UNET_SIZE and size & (size - 1) == 0:
            return "unet", int(math.log2(size))
    elif (m := _RESNET.match(name)) and len(m.group(1)) <= 3 and 1 <= int(m.group(1)) <= MAX_RESNET_BLOCKS:
        return "resnet", int(m.group(1))
    raise ConfigError(
        f"netG {name!r} is not valid: choose one of {', '.join(GENERATORS)} "
        f"(or unet_<power of two from 32 to {MAX_UNET_SIZE}>, resnet_<1 to {MAX_RESNET_BLOCKS}>blocks)"
    )


def size_multiple(netG: str) -> int:
    """The multiple that a generator needs its input width and height to be."""
    kind, n = parse_generator(netG)
    return 2**n if kind == "unet" else 4


@dataclass(frozen=True)
class Setting:
    """One user setting. ``section`` names the config that holds it: model, data or train.

    ``choices`` lists the allowed values (with ``labels`` for people), or
    ``low``/``high`` bound a number (``*_open``: the bound itself is excluded).
    ``suggestions`` are common values of a free-form text setting.
    """

    name: str
    section: str
    type: type
    label: str
    help: str
    choices: tuple = ()
    labels: tuple = ()
    suggestions: tuple = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    step: float = 1
    families: tuple[str, ...] = ()  # the families that have it (training_core.families); none named: all
    basic: bool = False  # on the Train tab's main form and among the CLI's main options

    def applies_to(self, family: str) -> bool:
        return not self.families or family in self.families

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def check(self, value) -> None:
        """Refuse a value outside the allowed ones, naming the setting and what to use instead."""
        if self.choices and value not in self.choices:
            raise ConfigError(f"{self.name} {value!r} is not valid: choose one of {', '.join(self.choices)}")
        if self.name == "netG":
            parse_generator(value)
        if self.type is float and not math.isfinite(value):  # NaN fails every comparison: it would pass the range
            raise ConfigError(f"{self.name} must be a finite number {self.range_text()}, got {value}")
        if self.type in (int, float):
            too_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
            too_high = self.high is not None and (value >= self.high if self.high_open else value > self.high)
            if too_low or too_high:
                raise ConfigError(f"{self.name} must be {self.range_text()}, got {value}")

    def range_text(self) -> str:
        low, high = (v if v is None else f"{v:,}" if self.type is int else f"{v:g}" for v in (self.low, self.high))
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"in {left}{low}, {high}{right}"
        if self.low is not None:
            return f"{'above' if self.low_open else 'at least'} {low}"
        return f"at most {high}"


def _s(name, section, type_, label, help_, **kw) -> Setting:
    return Setting(name, section, type_, label, help_, **kw)


CUT_FAMILIES = ("cut", "fastcut")  # PatchNCE's settings: both variants share them

SETTINGS: tuple[Setting, ...] = (
    # -- basic: what a run is ------------------------------------------------------------------
    _s(
        "iterations",
        "train",
        int,
        "Iterations",
        "train to this many iterations (batches) in total, then finish",
        low=1,
        high=100_000_000,
        step=100,
        basic=True,
    ),
    _s(
        "crop_size",
        "data",
        int,
        "Training size (px)",
        "training crop size in pixels; the load size keeps the preset's ratio unless given",
        low=16,
        high=MAX_IMAGE_SIZE,
        step=16,
        basic=True,
    ),
    _s("batch_size", "train", int, "Batch size", "images per iteration (the papers: 1)", low=1, high=256, basic=True),
    _s(
        "direction",
        "data",
        str,
        "Direction",
        "AtoB translates the A images into B; BtoA the other way",
        choices=DIRECTIONS,
        labels=("A to B", "B to A"),
        basic=True,
    ),
    _s(
        "precision",
        "train",
        str,
        "Precision",
        "auto: bf16 where the hardware is fast at it, else fp32",
        choices=PRECISIONS,
        basic=True,
    ),
    # -- networks -----------------------------------------------------------------------------
    _s(
        "netG",
        "model",
        str,
        "Generator",
        f"U-Net (pix2pix) or ResNet (CycleGAN): {', '.join(GENERATORS)}, unet_<N>, resnet_<N>blocks",
        suggestions=GENERATORS,
    ),
    _s(
        "ngf",
        "model",
        int,
        "Generator width (ngf)",
        "filters in the generator's first layer (papers: 64)",
        low=1,
        high=MAX_WIDTH,
    ),
    _s(
        "upsample",
        "model",
        str,
        "Generator upsampling",
        "transpose: the papers' transposed convolutions (imported reference weights use them); resize: "
        "resize then convolve, which cannot draw a checkerboard pattern (Odena et al. 2016)",
        choices=UPSAMPLING,
        labels=("Transposed convolution (papers)", "Resize, then convolution"),
    ),
    _s("dropout", "model", bool, "Generator dropout", "dropout in the generator (pix2pix's noise)"),
    _s(
        "netD",
        "model",
        str,
        "Discriminator",
        "basic: the 70x70 PatchGAN; n_layers: a PatchGAN of n_layers_D layers; pixel: 1x1; image: one score",
        choices=DISCRIMINATORS,
        labels=("PatchGAN 70x70", "PatchGAN, n layers", "Pixel (1x1)", "Image-level (one score)"),
    ),
    _s(
        "n_layers_D",
        "model",
        int,
        "Discriminator layers",
        "layers of the n_layers PatchGAN and of the image discriminator (basic is 3)",
        low=1,
        high=8,
    ),
    _s(
        "num_D",
        "model",
        int,
        "Discriminator scales",
        "1: one discriminator (the papers); 2 or 3: pix2pixHD's multi-scale discriminator, the same design "
        "again on the image halved at each scale, which judges the whole layout as well as the texture",
        low=1,
        high=4,
    ),
    _s(
        "spectral_norm",
        "model",
        bool,
        "Spectral normalisation (discriminator)",
        "hold each discriminator layer's largest singular value at 1 (Miyato et al. 2018): a steadier critic",
    ),
    _s(
        "diff_augment",
        "model",
        str,
        "Discriminator augmentation",
        "differentiable augmentation of everything the discriminators see, real and generated alike "
        "(Zhao et al. 2020): helps small datasets; none is the papers'",
        choices=AUGMENT_POLICIES,
        labels=("None (papers)", "Shifts", "Shifts and cut-outs", "Colour, shifts and cut-outs"),
    ),
    _s(
        "ndf",
        "model",
        int,
        "Discriminator width (ndf)",
        "filters in the discriminator's first layer (papers: 64)",
        low=1,
        high=MAX_WIDTH,
    ),
    _s("norm", "model", str, "Normalisation", "batch (pix2pix), instance (CycleGAN) or none", choices=NORMS),
    _s(
        "init_type",
        "model",
        str,
        "Weight initialisation",
        "how new networks' weights are drawn (papers: normal)",
        choices=INIT_TYPES,
    ),
    _s(
        "init_gain",
        "model",
        float,
        "Initialisation gain",
        "scale of the initial weights (papers: 0.02)",
        low=0,
        high=10,
        step=0.01,
    ),
    # -- losses -------------------------------------------------------------------------------
    _s(
        "gan_mode",
        "model",
        str,
        "Adversarial loss",
        "vanilla: cross-entropy (pix2pix); lsgan: least squares (CycleGAN); wgangp: Wasserstein with gradient penalty",
        choices=GAN_MODES,
        labels=("Vanilla (cross-entropy)", "Least squares (LSGAN)", "Wasserstein (WGAN-GP)"),
    ),
    _s(
        "lambda_gp",
        "model",
        float,
        "Gradient penalty weight",
        "weight of WGAN-GP's gradient penalty",
        low=0,
        high=1000,
        step=1,
    ),
    _s(
        "lambda_L1",
        "model",
        float,
        "L1 weight",
        "weight of the L1 loss against the target (paper: 100)",
        low=0,
        high=10_000,
        step=10,
        families=("pix2pix",),
    ),
    _s(
        "lambda_feat",
        "model",
        float,
        "Feature matching weight",
        "0: off (pix2pix); > 0: also pull the discriminator's view of each output towards its view of the "
        "target, layer by layer (pix2pixHD's feature matching; e.g. 10)",
        low=0,
        high=1000,
        step=1,
        families=("pix2pix",),
    ),
    _s(
        "lambda_ssim",
        "model",
        float,
        "Structure (SSIM) weight",
        "0: off (pix2pix); > 0: also pull the local structure of each output (brightness, contrast and "
        "pattern in 11-pixel windows) towards the target's: (1 - SSIM) with this weight beside the L1 "
        "(Zhao et al. 2017: training reaches a lower L1 with it; the quick and high presets: 100)",
        low=0,
        high=1000,
        step=5,
        families=("pix2pix",),
    ),
    _s(
        "lambda_A",
        "model",
        float,
        "Cycle weight A",
        "weight of the A -> B -> A cycle loss (paper: 10)",
        low=0,
        high=1000,
        step=1,
        families=("cyclegan",),
    ),
    _s(
        "lambda_B",
        "model",
        float,
        "Cycle weight B",
        "weight of the B -> A -> B cycle loss (paper: 10)",
        low=0,
        high=1000,
        step=1,
        families=("cyclegan",),
    ),
    _s(
        "lambda_identity",
        "model",
        float,
        "Identity weight",
        "identity loss, relative to the cycle weights (paper: 0.5; 0 turns it off)",
        low=0,
        high=100,
        step=0.1,
        families=("cyclegan",),
    ),
    _s(
        "pool_size",
        "model",
        int,
        "Image pool size",
        "earlier fakes the discriminators also see (paper: 50; 0 turns the pool off)",
        low=0,
        high=10_000,
        families=("cyclegan",),
    ),
    _s(
        "lambda_NCE",
        "model",
        float,
        "PatchNCE weight",
        "how strongly each output patch must stay recognisable as the input's patch at its place, "
        "against the GAN loss's weight of 1 (CUT: 1; FastCUT: 10)",
        low=0,
        high=1000,
        step=1,
        families=CUT_FAMILIES,
    ),
    _s(
        "nce_idt",
        "model",
        bool,
        "Identity PatchNCE",
        "also ask that a picture already of domain B comes out as it was (CUT: on; FastCUT: off, "
        "which makes a step about a third cheaper)",
        families=CUT_FAMILIES,
    ),
    _s(
        "flip_equivariance",
        "model",
        bool,
        "Flip-equivariance",
        "on half the steps the input is flipped, and the output must be its translation flipped "
        "(FastCUT: on, in place of the identity term; CUT: off)",
        families=CUT_FAMILIES,
    ),
    _s(
        "num_patches",
        "model",
        int,
        "PatchNCE locations",
        "places compared per feature layer in each image (paper: 256)",
        low=1,
        high=4096,
        step=32,
        families=CUT_FAMILIES,
    ),
    _s(
        "nce_T",
        "model",
        float,
        "PatchNCE temperature",
        "how sharply the similarities of patches are told apart (paper: 0.07)",
        low=0,
        high=10,
        low_open=True,
        step=0.01,
        families=CUT_FAMILIES,
    ),
    _s(
        "netF_nc",
        "model",
        int,
        "PatchNCE head width",
        "units of the small network that projects each patch's features before they are compared (paper: 256)",
        low=1,
        high=4096,
        step=64,
        families=CUT_FAMILIES,
    ),
    _s(
        "lambda_GAN",
        "model",
        float,
        "GAN weight",
        "weight of the adversarial loss beside PatchNCE (paper: 1)",
        low=0,
        high=1000,
        step=0.1,
        families=CUT_FAMILIES,
    ),
    # -- optimisation -------------------------------------------------------------------------
    _s(
        "lr",
        "model",
        float,
        "Learning rate",
        "the optimizers' base learning rate (papers: 0.0002)",
        low=0,
        high=1,
        low_open=True,
        high_open=True,
        step=1e-4,
    ),
    _s(
        "beta1",
        "model",
        float,
        "Adam beta1",
        "Adam's first momentum (papers: 0.5)",
        low=0,
        high=1,
        high_open=True,
        step=0.05,
    ),
    _s(
        "beta2",
        "model",
        float,
        "Adam beta2",
        "Adam's second momentum (papers: 0.999)",
        low=0,
        high=1,
        high_open=True,
        step=0.001,
    ),
    _s(
        "optimizer_G",
        "model",
        str,
        "Generator optimizer",
        "adam (the papers), rmsprop, or sgd with momentum",
        choices=OPTIMIZERS,
        labels=("Adam", "RMSprop", "SGD with momentum"),
    ),
    _s(
        "optimizer_D",
        "model",
        str,
        "Discriminator optimizer",
        "adam (the papers), rmsprop, or sgd with momentum",
        choices=OPTIMIZERS,
        labels=("Adam", "RMSprop", "SGD with momentum"),
    ),
    _s(
        "momentum",
        "model",
        float,
        "Momentum (SGD, RMSprop)",
        "momentum of sgd and rmsprop",
        low=0,
        high=1,
        high_open=True,
        step=0.05,
    ),
    _s(
        "ema_decay",
        "model",
        float,
        "Generator averaging (EMA decay)",
        "0: off (the papers); e.g. 0.999: samples, scores, the saved model and conversion use a moving average "
        "of the generator's weights, steadier than its latest state (Yazici et al. 2019)",
        low=0,
        high=1,
        high_open=True,
        step=0.001,
    ),
    _s(
        "lr_policy",
        "train",
        str,
        "Learning-rate schedule",
        "linear: constant then linear decay to zero (the papers); step: /10 every lr_step_iters; cosine; "
        "plateau: cut when the held-out (or training) loss stops improving; constant",
        choices=LR_POLICIES,
    ),
    _s(
        "lr_decay_start",
        "train",
        float,
        "Decay starts at (fraction of run)",
        "linear schedule: when the decay starts (papers: 0.5)",
        low=0,
        high=1,
        high_open=True,
        step=0.05,
    ),
    _s(
        "lr_step_iters",
        "train",
        int,
        "Step every (iterations)",
        "step schedule: 0 means a third of the run",
        low=0,
        high=100_000_000,
        step=100,
    ),
    _s(
        "plateau_patience",
        "train",
        int,
        "Plateau patience (checks)",
        "plateau schedule: sample points without improvement before the rate is cut",
        low=1,
        high=1000,
    ),
    _s(
        "plateau_factor",
        "train",
        float,
        "Plateau factor",
        "plateau schedule: the rate is multiplied by this",
        low=0,
        high=1,
        low_open=True,
        high_open=True,
        step=0.05,
    ),
    # -- data ---------------------------------------------------------------------------------
    _s(
        "preprocess",
        "data",
        str,
        "Preprocessing",
        "resize_and_crop: resize to the load size, random crop (papers); crop: crop at the image's own scale; "
        "scale_width[_and_crop]: width to the load size; none: as is",
        choices=PREPROCESS_MODES,
    ),
    _s(
        "load_size",
        "data",
        int,
        "Load size (px)",
        "images are resized to this before cropping (papers: 286)",
        low=16,
        high=MAX_IMAGE_SIZE,
        step=16,
    ),
    _s("flip", "data", bool, "Random flips", "flip training images left-right at random (papers: on)"),
    # -- the run ------------------------------------------------------------------------------
    _s("seed", "train", int, "Random seed", "the same seed and settings give the same run", low=0, high=2**31 - 1),
    _s(
        "sample_every",
        "train",
        int,
        "Samples every (iterations)",
        "sample images and held-out scores cadence",
        low=1,
        high=10_000_000,
        step=50,
    ),
    _s(
        "checkpoint_every",
        "train",
        int,
        "Checkpoint every (iterations)",
        "how often a resumable state is saved",
        low=1,
        high=10_000_000,
        step=100,
    ),
    _s(
        "keep_checkpoints",
        "train",
        int,
        "Checkpoints kept",
        "the newest ones are kept; older ones removed",
        low=1,
        high=1000,
    ),
    _s(
        "preview_count",
        "train",
        int,
        "Preview images",
        "held-out (or training) images shown in the samples",
        low=1,
        high=32,
    ),
    _s(
        "max_val_items",
        "train",
        int,
        "Held-out images at most",
        "validation scores at most this many pairs",
        low=0,
        high=100_000,
    ),
    _s(
        "val_fraction",
        "train",
        float,
        "Held-out fraction",
        "share of paired data held out for validation when there is no val/ folder",
        low=0,
        high=1,
        high_open=True,
        step=0.05,
    ),
    _s(
        "compile",
        "train",
        bool,
        "Compile the networks (GPU)",
        "torch.compile; on CUDA each network's step then runs as captured CUDA graphs. The first "
        "iterations wait for compiling (a minute or more, cached for later runs); on the CPU it measured no faster",
    ),
    _s(
        "deterministic",
        "train",
        bool,
        "Deterministic GPU kernels",
        "CUDA only: kernels that add in a fixed order, so a stopped and resumed run is bit-identical to an "
        "uninterrupted one (the CPU always is); somewhat slower",
    ),
    _s(
        "num_workers",
        "train",
        int,
        "Loader processes",
        "-1: none on a CPU-only machine, a few beside a GPU",
        low=-1,
        high=64,
    ),
    _s(
        "scale_lr",
        "train",
        bool,
        "Scale learning rate (torchrun)",
        "under torchrun: multiply the learning rate by the number of processes",
    ),
    _s(
        "sync_batchnorm",
        "train",
        bool,
        "Synchronised batch norm (torchrun)",
        "under torchrun on CUDA: batch-norm statistics over all processes",
    ),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
ALIASES = {"size": "crop_size"}  # the CLI's and 0.1's name for the training size


def for_family(family: str) -> tuple[Setting, ...]:
    return tuple(s for s in SETTINGS if s.applies_to(family))
