"""Tiny runs for trainer tests: a few 32 px images, 8-channel networks."""

from training_core.data.demo import make_demo_dataset
from training_core.data.discover import discover

TINY_PIX2PIX = dict(
    netG="unet_32", ngf=8, ndf=8, preprocess="crop", crop_size=32, sample_every=4, checkpoint_every=100, preview_count=2
)
TINY_CYCLEGAN = dict(
    netG="resnet_1blocks",
    ngf=8,
    ndf=8,
    preprocess="crop",
    crop_size=32,
    sample_every=4,
    checkpoint_every=100,
    preview_count=2,
    pool_size=3,
)


def paired_report(folder, train=12, val=2):
    return discover(make_demo_dataset(folder, train=train, val=val, size=32))


def unpaired_report(folder, count=6):
    """Two domains: the demo's outlines and its paintings, under different names."""
    from PIL import Image

    demo = make_demo_dataset(folder / "src", train=count, val=0, size=32)
    for i, path in enumerate(sorted((demo / "train").iterdir())):
        pair = Image.open(path)
        (folder / "data" / "trainA").mkdir(parents=True, exist_ok=True)
        (folder / "data" / "trainB").mkdir(parents=True, exist_ok=True)
        pair.crop((0, 0, 32, 32)).save(folder / "data" / "trainA" / f"outline{i}.png")
        pair.crop((32, 0, 64, 32)).save(folder / "data" / "trainB" / f"painting{i}.png")
    return discover(folder / "data")


def train_step(model) -> dict[str, float]:
    """One optimisation step on the model's current input, its losses read back as numbers."""
    return {k: float(v) for k, v in model.step().items()}


# TINY_PIX2PIX's networks and size as command-line options.
TINY_CLI = ["--netG", "unet_32", "--ngf", "8", "--ndf", "8", "--preprocess", "crop", "--size", "32"]
