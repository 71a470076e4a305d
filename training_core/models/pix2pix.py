"""pix2pix: conditional GAN for paired data (Isola et al., CVPR 2017)."""

from __future__ import annotations

import torch
from torch import nn

from ..config import Pix2PixConfig
from .augment import diff_augment
from .base import GANModel
from .losses import GANLoss, feature_matching, gradient_penalty, structural_dissimilarity
from .networks import define_D, define_G, predictions


class Pix2PixModel(GANModel):
    """G: A -> B (U-Net); D judges (A, B) pairs patch by patch; loss GAN + lambda_L1 * L1
    (+ lambda_ssim * (1 - SSIM), + lambda_feat * feature matching, where they are on)."""

    loss_names = ("G_GAN", "G_L1", "D_real", "D_fake")  # and G_feat, G_SSIM where they are on

    def __init__(self, config: Pix2PixConfig, device="cpu", seed: int = 0, precision: str = "fp32"):
        super().__init__(config, device, seed, precision)
        c = self.config
        self._build(
            {
                "G": lambda: define_G(
                    c.input_nc, c.output_nc, c.ngf, c.netG, c.norm, c.dropout, c.init_type, c.init_gain, c.upsample
                ),
                # The discriminator is conditional: it sees the input next to the (real or fake) output.
                "D": lambda: define_D(
                    c.input_nc + c.output_nc,
                    c.ndf,
                    c.netD,
                    c.n_layers_D,
                    c.norm,
                    c.init_type,
                    c.init_gain,
                    c.spectral_norm,
                    c.num_D,
                ),
            }
        )
        self.criterion_gan = GANLoss(c.gan_mode).to(self.device)
        self.criterion_l1 = nn.L1Loss()
        self.optimizers = {"G": self._optimizer(c.optimizer_G, "G"), "D": self._optimizer(c.optimizer_D, "D")}

    @property
    def netG(self):
        return self.nets["G"]

    @property
    def netD(self):
        return self.nets["D"]

    def step(self) -> dict[str, torch.Tensor]:
        c = self.config
        with self.autocast():
            fake_B = self.netG(self.real_A)
        self.fake_B = fake_B

        # Discriminator: real pairs towards real, generated pairs towards fake.
        self.set_requires_grad([self.netD], True)
        self.optimizers["D"].zero_grad(set_to_none=True)
        with self.autocast():
            fake_AB = torch.cat((self.real_A, fake_B.detach()), 1)
            real_AB = torch.cat((self.real_A, self.real_B), 1)
            # Augmented as pairs: the input and its output move together.
            loss_D_fake = self.criterion_gan(self.netD(diff_augment(fake_AB, c.diff_augment)), False)
            loss_D_real = self.criterion_gan(self.netD(diff_augment(real_AB, c.diff_augment)), True)
            loss_D = (loss_D_fake + loss_D_real) * 0.5
            if c.gan_mode == "wgangp":
                loss_D = loss_D + gradient_penalty(self.netD, real_AB, fake_AB, c.lambda_gp)
        self._backward(loss_D)
        self._step("D")

        # Generator: fool the (just updated) discriminator and stay close to the target.
        self.set_requires_grad([self.netD], False)
        self.optimizers["G"].zero_grad(set_to_none=True)
        with self.autocast():
            # D itself, not its DDP wrapper: it is frozen here, and its gradients must not be synchronised.
            netD = self.plain("D")
            fake_pair = torch.cat((self.real_A, fake_B), 1)
            fake_maps = netD.activations(fake_pair) if c.lambda_feat > 0 else None
            if fake_maps is not None and c.diff_augment == "none":  # one pass gives maps and prediction
                prediction = predictions(fake_maps)
            else:
                prediction = netD(diff_augment(fake_pair, c.diff_augment))
            losses = {
                "G_GAN": self.criterion_gan(prediction, True),
                "G_L1": self.criterion_l1(fake_B.float(), self.real_B) * c.lambda_L1,
            }
            if c.lambda_ssim > 0:
                losses["G_SSIM"] = structural_dissimilarity(fake_B, self.real_B) * c.lambda_ssim
            if fake_maps is not None:
                # On the pairs as they are: augmented, the two sides would be shifted differently.
                with torch.no_grad():
                    real_maps = netD.activations(real_AB)
                losses["G_feat"] = feature_matching(fake_maps, real_maps) * c.lambda_feat
        self._backward(sum(losses.values()))
        self._step("G")
        self._end_iteration()

        losses.update(D_real=loss_D_real, D_fake=loss_D_fake)
        return {k: v.detach() for k, v in losses.items()}

    def generator(self, direction: str = "AtoB") -> nn.Module:
        if direction != "AtoB":
            raise ValueError("a pix2pix model translates in the direction it was trained in (AtoB of its data)")
        return self.translating("G")
