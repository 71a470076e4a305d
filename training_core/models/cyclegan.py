"""CycleGAN: unpaired translation with cycle consistency (Zhu et al., ICCV 2017)."""

from __future__ import annotations

import torch
from torch import nn

from ..config import CycleGANConfig
from .augment import diff_augment
from .base import GANModel
from .losses import GANLoss, ImagePool, gradient_penalty
from .networks import define_D, define_G


class CycleGANModel(GANModel):
    """G_A: A -> B, G_B: B -> A; D_A judges domain B, D_B judges domain A.

    Generator loss: GAN both ways + lambda * cycle L1 both ways + identity L1
    (weighted lambda_identity * lambda). Discriminators train on a history of
    generated images (the image pool) to damp oscillation.
    """

    loss_names = ("D_A", "G_A", "cycle_A", "idt_A", "D_B", "G_B", "cycle_B", "idt_B")
    directions = ("AtoB", "BtoA")
    generator_names = ("G_A", "G_B")

    def __init__(self, config: CycleGANConfig, device="cpu", seed: int = 0, precision: str = "fp32"):
        super().__init__(config, device, seed, precision)
        c = self.config

        def generator(nc_in, nc_out):
            return lambda: define_G(
                nc_in, nc_out, c.ngf, c.netG, c.norm, c.dropout, c.init_type, c.init_gain, c.upsample
            )

        def discriminator(nc):
            return lambda: define_D(
                nc, c.ndf, c.netD, c.n_layers_D, c.norm, c.init_type, c.init_gain, c.spectral_norm, c.num_D
            )

        self._build(
            {
                "G_A": generator(c.input_nc, c.output_nc),
                "G_B": generator(c.output_nc, c.input_nc),
                "D_A": discriminator(c.output_nc),
                "D_B": discriminator(c.input_nc),
            }
        )
        self.criterion_gan = GANLoss(c.gan_mode).to(self.device)
        self.criterion_l1 = nn.L1Loss()
        self.optimizers = {
            "G": self._optimizer(c.optimizer_G, "G_A", "G_B"),
            "D": self._optimizer(c.optimizer_D, "D_A", "D_B"),
        }
        self.fake_A_pool = ImagePool(c.pool_size, seed=seed)
        self.fake_B_pool = ImagePool(c.pool_size, seed=seed + 1)

    def step(self) -> dict[str, torch.Tensor]:
        c, n = self.config, self.nets
        real_A, real_B = self.real_A, self.real_B
        with self.autocast():
            fake_B = n["G_A"](real_A)
            rec_A = n["G_B"](fake_B)
            fake_A = n["G_B"](real_B)
            rec_B = n["G_A"](fake_A)
        self.fake_B, self.rec_A, self.fake_A, self.rec_B = fake_B, rec_A, fake_A, rec_B

        # Generators, with the discriminators frozen.
        self.set_requires_grad([n["D_A"], n["D_B"]], False)
        self.optimizers["G"].zero_grad(set_to_none=True)
        losses = {}
        with self.autocast():
            if c.lambda_identity > 0:
                # A generator fed an image of its target domain should leave it alone.
                losses["idt_A"] = self.criterion_l1(n["G_A"](real_B), real_B) * c.lambda_B * c.lambda_identity
                losses["idt_B"] = self.criterion_l1(n["G_B"](real_A), real_A) * c.lambda_A * c.lambda_identity
            else:
                losses["idt_A"] = losses["idt_B"] = torch.zeros((), device=self.device)
            # The discriminators themselves, not DDP wrappers: frozen here, nothing of theirs to synchronise.
            losses["G_A"] = self.criterion_gan(self.plain("D_A")(diff_augment(fake_B, c.diff_augment)), True)
            losses["G_B"] = self.criterion_gan(self.plain("D_B")(diff_augment(fake_A, c.diff_augment)), True)
            losses["cycle_A"] = self.criterion_l1(rec_A, real_A) * c.lambda_A
            losses["cycle_B"] = self.criterion_l1(rec_B, real_B) * c.lambda_B
        self._backward(sum(losses.values()))
        self._step("G")

        # Discriminators, on pooled fakes.
        self.set_requires_grad([n["D_A"], n["D_B"]], True)
        self.optimizers["D"].zero_grad(set_to_none=True)
        losses["D_A"] = self._backward_D(n["D_A"], real_B, self.fake_B_pool.query(fake_B))
        losses["D_B"] = self._backward_D(n["D_B"], real_A, self.fake_A_pool.query(fake_A))
        self._step("D")
        self._end_iteration()
        return {k: losses[k].detach() for k in self.loss_names}

    def _backward_D(self, netD, real, fake) -> torch.Tensor:
        with self.autocast():
            policy = self.config.diff_augment
            seen_real, seen_fake = diff_augment(real, policy), diff_augment(fake.detach(), policy)
            loss = (self.criterion_gan(netD(seen_real), True) + self.criterion_gan(netD(seen_fake), False)) * 0.5
            if self.config.gan_mode == "wgangp":
                loss = loss + gradient_penalty(netD, real, fake, self.config.lambda_gp)
        self._backward(loss)
        return loss

    def generator(self, direction: str = "AtoB") -> nn.Module:
        if direction not in self.directions:
            raise ValueError(f"direction must be AtoB or BtoA, got {direction!r}")
        return self.translating("G_A" if direction == "AtoB" else "G_B")

    def extra_state(self) -> dict:
        return {"fake_A_pool": self.fake_A_pool.state_dict(), "fake_B_pool": self.fake_B_pool.state_dict()}

    def load_extra_state(self, state: dict) -> None:
        if state:
            self.fake_A_pool.load_state_dict(state["fake_A_pool"], self.device)
            self.fake_B_pool.load_state_dict(state["fake_B_pool"], self.device)
