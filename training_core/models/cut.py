"""CUT and FastCUT: unpaired translation by patchwise contrastive learning (Park et al., ECCV 2020).

One generator G (A -> B) and one discriminator D, no second generator and no cycle: besides fooling D,
each output patch must be recognisable, among the image's other patches, as the one at its place in
the input (PatchNCE, ``patchnce.py``). FastCUT drops the identity term, weighs PatchNCE ten times
more, and asks that flipping the input flips the encoder's view of the output (flip-equivariance).
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import CUTConfig
from ..options import parse_generator
from .augment import diff_augment
from .base import GANModel
from .losses import GANLoss, gradient_penalty
from .networks import define_D, define_G, init_weights
from .patchnce import PatchHeads, patch_nce, sample_locations

# The ResNet generator's layers, in order: 0 reflection pad, 1 stem convolution, 2 norm, 3 ReLU, 4 and 7
# the stride-2 convolutions (each followed by norm and ReLU), then the residual blocks from 10 on.
_INPUT, _DOWN_1, _DOWN_2, _FIRST_BLOCK = 0, 4, 7, 10


def nce_layers(n_blocks: int) -> tuple[int, ...]:
    """The layers PatchNCE reads, the paper's choice for its ResNet: the input, both downsampling
    convolutions, and the first and fifth residual blocks (the last one where there are fewer)."""
    blocks = sorted({_FIRST_BLOCK, _FIRST_BLOCK + min(5, n_blocks) - 1})
    return (_INPUT, _DOWN_1, _DOWN_2, *blocks)


def encoder_features(generator: nn.Module, images: torch.Tensor, layers: tuple[int, ...]) -> list[torch.Tensor]:
    """The outputs of ``generator.model``'s ``layers`` for ``images``, running no layer past the last.
    Layer 0 is taken before its padding: the reflected border only repeats the image."""
    features, x = [], images
    for index, layer in enumerate(generator.model[: layers[-1] + 1]):
        if index == _INPUT:
            features.append(x)
        x = layer(x)
        if index in layers and index != _INPUT:
            features.append(x)
    return features


def _out_channels(layer: nn.Module, fallback: int) -> int:
    convolutions = [m for m in layer.modules() if isinstance(m, nn.Conv2d)]
    return convolutions[-1].out_channels if convolutions else fallback


class CUTModel(GANModel):
    """G: A -> B; D judges domain B; F: the projection heads of PatchNCE, with their own optimizer.

    Generator loss: lambda_GAN * GAN + lambda_NCE * PatchNCE(A, G(A)), averaged with
    PatchNCE(B, G(B)) where the identity term is on (CUT). D trains on the latest fakes (no pool).
    """

    def __init__(self, config: CUTConfig, device="cpu", seed: int = 0, precision: str = "fp32"):
        super().__init__(config, device, seed, precision)
        c = self.config
        self.loss_names = ("G_GAN", "NCE", *(("NCE_Y",) if c.nce_idt else ()), "D_real", "D_fake")
        self.layers = nce_layers(parse_generator(c.netG)[1])
        self._build(
            {
                "G": lambda: define_G(
                    c.input_nc, c.output_nc, c.ngf, c.netG, c.norm, c.dropout, c.init_type, c.init_gain, c.upsample
                ),
                "D": lambda: define_D(
                    c.output_nc, c.ndf, c.netD, c.n_layers_D, c.norm, c.init_type, c.init_gain, c.spectral_norm, c.num_D
                ),
                "F": self._heads,
            }
        )
        self.criterion_gan = GANLoss(c.gan_mode).to(self.device)
        self.optimizers = {
            "G": self._optimizer(c.optimizer_G, "G"),
            "D": self._optimizer(c.optimizer_D, "D"),
            "F": self._optimizer(c.optimizer_G, "F"),
        }
        # Sampled locations and flip coins: the model's own generator, kept in its state, so a resumed
        # run draws what the uninterrupted one would have.
        self.rng = torch.Generator().manual_seed(seed)

    def _heads(self) -> PatchHeads:
        """The heads fit the widths of the features they read. The authors' code builds them on the
        first batch, where those widths are first seen; ours are fixed by the architecture, so the heads
        are built with the other nets: the same from the first step, in every checkpoint, in the seed."""
        model = self.nets["G"].model
        widths = [_out_channels(model[i], self.config.input_nc) for i in self.layers]
        return init_weights(PatchHeads(widths, self.config.netF_nc), self.config.init_type, self.config.init_gain)

    def step(self) -> dict[str, torch.Tensor]:
        c, n = self.config, self.nets
        count = self.real_A.shape[0]
        sources = torch.cat((self.real_A, self.real_B)) if c.nce_idt else self.real_A
        flipped = c.flip_equivariance and bool(torch.rand((), generator=self.rng) < 0.5)
        with self.autocast():
            outputs = n["G"](sources.flip(3) if flipped else sources)
        self.fake_B = outputs[:count]

        # Discriminator: real B towards real, generated towards fake.
        self.set_requires_grad([n["D"]], True)
        self.optimizers["D"].zero_grad(set_to_none=True)
        loss_D_real, loss_D_fake = self._backward_D(n["D"], self.real_B, self.fake_B)
        self._step("D")

        # Generator and heads: fool the (just updated) D, and keep each patch's content.
        self.set_requires_grad([n["D"]], False)
        self.optimizers["G"].zero_grad(set_to_none=True)
        self.optimizers["F"].zero_grad(set_to_none=True)
        with self.autocast():
            # D itself, not its DDP wrapper: it is frozen here, and its gradients must not be synchronised.
            prediction = self.plain("D")(diff_augment(self.fake_B, c.diff_augment))
            losses = {"G_GAN": self.criterion_gan(prediction, True) * c.lambda_GAN}
            per_image = self._patch_nce(sources, outputs, flipped) * c.lambda_NCE
        losses["NCE"] = per_image[:count].mean()
        if c.nce_idt:
            losses["NCE_Y"] = per_image[count:].mean()
        nce = per_image.mean()  # with the identity term: the mean of both, as in the paper
        self._backward(losses["G_GAN"] + nce)
        self._step("G")
        self._step("F")
        self._end_iteration()
        losses.update(D_real=loss_D_real, D_fake=loss_D_fake)
        return {k: losses[k].detach() for k in self.loss_names}

    def _backward_D(self, netD, real, fake) -> tuple[torch.Tensor, torch.Tensor]:
        policy = self.config.diff_augment
        with self.autocast():
            loss_real = self.criterion_gan(netD(diff_augment(real, policy)), True)
            loss_fake = self.criterion_gan(netD(diff_augment(fake.detach(), policy)), False)
            loss = (loss_real + loss_fake) * 0.5
            if self.config.gan_mode == "wgangp":
                loss = loss + gradient_penalty(netD, real, fake, self.config.lambda_gp)
        self._backward(loss)
        return loss_real, loss_fake

    def _patch_nce(self, sources: torch.Tensor, outputs: torch.Tensor, flipped: bool) -> torch.Tensor:
        """PatchNCE of each output against its source, averaged over the layers: (N,).

        The sources' side is a fixed target (no gradient), so it is computed without one. With the
        input flipped, the output's features are flipped back: the same place must match."""
        encoder = self.plain("G")
        heads = self.nets["F"]
        with torch.no_grad():
            key_maps = encoder_features(encoder, sources, self.layers)
            locations = sample_locations(key_maps, self.config.num_patches, self.rng)
            keys = heads(key_maps, locations)
        query_maps = encoder_features(encoder, outputs, self.layers)
        if flipped:
            query_maps = [m.flip(3) for m in query_maps]
        queries = heads(query_maps, locations)
        with torch.autocast(self.device.type, enabled=False):
            per_layer = [patch_nce(q, k, self.config.nce_T) for q, k in zip(queries, keys)]
        return torch.stack(per_layer).mean(0)

    def generator(self, direction: str = "AtoB") -> nn.Module:
        if direction != "AtoB":
            raise ValueError(f"a {self.config.family} model translates one way only (AtoB of its data)")
        return self.translating("G")

    def extra_state(self) -> dict:
        return {"rng": self.rng.get_state()}

    def load_extra_state(self, state: dict) -> None:
        if state:
            self.rng.set_state(state["rng"])
