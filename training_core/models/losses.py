"""GAN objectives, the WGAN-GP gradient penalty, the structural loss, and CycleGAN's image pool."""

from __future__ import annotations

import random

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from ..options import GAN_MODES
from .metrics import ssim


class GANLoss(nn.Module):
    """Adversarial loss against a real/fake target of the prediction's shape.

    vanilla: binary cross-entropy on logits (the pix2pix paper);
    lsgan: least squares (the CycleGAN paper); wgangp: the Wasserstein critic
    loss, used together with ``gradient_penalty``.
    """

    def __init__(self, gan_mode: str, real_label: float = 1.0, fake_label: float = 0.0):
        super().__init__()
        if gan_mode not in GAN_MODES:
            raise ConfigError(f"gan_mode {gan_mode!r} is not valid: choose one of {', '.join(GAN_MODES)}")
        self.gan_mode = gan_mode
        self.register_buffer("real_label", torch.tensor(real_label))
        self.register_buffer("fake_label", torch.tensor(fake_label))
        self.criterion = {"vanilla": nn.BCEWithLogitsLoss(), "lsgan": nn.MSELoss()}.get(gan_mode)

    def forward(self, prediction: torch.Tensor | list[torch.Tensor], target_is_real: bool) -> torch.Tensor:
        if isinstance(prediction, list):
            # A multi-scale discriminator's: the mean over its scales, so the adversarial term keeps the
            # weight against the L1 and cycle terms that the papers' single discriminator has.
            return sum(self(p, target_is_real) for p in prediction) / len(prediction)
        if self.gan_mode == "wgangp":
            return -prediction.mean() if target_is_real else prediction.mean()
        label = self.real_label if target_is_real else self.fake_label
        assert self.criterion is not None  # only wgangp has none, and it returned above
        return self.criterion(prediction, label.to(prediction.dtype).expand_as(prediction))


def gradient_penalty(
    netD: nn.Module, real: torch.Tensor, fake: torch.Tensor, lambda_gp: float = 10.0, constant: float = 1.0
) -> torch.Tensor:
    """WGAN-GP: push the critic's gradient norm towards ``constant`` on real/fake mixes."""
    alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    out = netD(mixed)
    total = sum(o.sum() for o in out) if isinstance(out, list) else out.sum()  # multi-scale: every scale's
    (grad,) = torch.autograd.grad(total, mixed, create_graph=True, retain_graph=True)
    norms = grad.flatten(1).norm(2, dim=1)
    return ((norms - constant) ** 2).mean() * lambda_gp


def structural_dissimilarity(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - SSIM, the mean over the batch: a reconstruction loss that weighs local structure, which
    with L1 beside it trains to a lower L1 than L1 alone (Zhao et al., "Loss Functions for Image
    Restoration with Neural Networks", IEEE TCI 2017).

    Always in float32: under bf16 autocast the windows' variances lose the small differences that
    SSIM divides by, and the loss becomes NaN."""
    with torch.autocast(output.device.type, enabled=False):
        return (1 - ssim(output.float(), target.float())).mean()


def feature_matching(fake: list, real: list) -> torch.Tensor:
    """pix2pixHD's feature-matching loss: the mean L1 between what the discriminator's layers make of
    generated and of real pairs, over every layer but the prediction and every scale.

    ``fake`` and ``real`` are ``activations()`` of one discriminator (a list of maps per scale for a
    multi-scale one). The real side is a fixed target: no gradient flows into it."""
    if fake and not isinstance(fake[0], list):
        fake, real = [fake], [real]
    distances = [
        F.l1_loss(f.float(), r.detach().float()) for fs, rs in zip(fake, real) for f, r in zip(fs[:-1], rs[:-1])
    ]
    return sum(distances) / len(distances)


class ImagePool:
    """History of generated images (Shrivastava et al.), as CycleGAN uses it.

    Until the pool is full every image is stored and returned as is; then each
    image is, with probability 0.5, swapped for a random stored one. The random
    choices come from the pool's own seeded generator so a resumed run repeats
    them exactly; ``state_dict`` carries that generator and the stored images.
    """

    def __init__(self, pool_size: int = 50, seed: int = 0):
        if pool_size < 0:
            raise ConfigError(f"pool_size must be 0 or more, got {pool_size}")
        self.pool_size = pool_size
        self.images: list[torch.Tensor] = []
        self.rng = random.Random(seed)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        if self.pool_size == 0:
            return images
        out = []
        for image in images.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.pool_size:
                self.images.append(image.clone())
                out.append(image)
            elif self.rng.random() > 0.5:
                i = self.rng.randrange(self.pool_size)
                out.append(self.images[i].clone())
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.cat(out, 0)

    def state_dict(self) -> dict:
        return {"pool_size": self.pool_size, "images": [t.cpu() for t in self.images], "rng": self.rng.getstate()}

    def load_state_dict(self, state: dict, device=None) -> None:
        self.pool_size = int(state["pool_size"])
        self.images = [t.to(device) if device is not None else t for t in state["images"]]
        self.rng.setstate(state["rng"])
