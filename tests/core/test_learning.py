"""The models learn, not just run: seeded, tiny, on the CPU."""

import pytest
import torch
from synthetic import inverted, shapes
from tiny import train_step

from training_core.config import CycleGANConfig, Pix2PixConfig
from training_core.models.registry import build_model


def _batches(n_images: int, batch: int, steps: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        yield torch.randint(0, n_images, (batch,), generator=g)


@pytest.mark.slow  # learns to a quality: the full run (CI) has it, the fast loop not
def test_pix2pix_held_out_l1_falls_well_below_its_start():
    train, held_out = shapes(64, seed=1), shapes(16, seed=2)
    model = build_model(Pix2PixConfig(netG="unet_32", ngf=8, ndf=8), seed=0)

    def held_out_l1():
        return (model.translate(held_out) - inverted(held_out)).abs().mean().item()

    start = held_out_l1()
    for idx in _batches(64, 4, 400, seed=0):
        model.set_input({"A": train[idx], "B": inverted(train[idx])})
        losses = train_step(model)
    assert set(losses) == {"G_GAN", "G_L1", "D_real", "D_fake"}
    assert held_out_l1() < 0.5 * start


@pytest.mark.slow  # learns to a quality: the full run (CI) has it, the fast loop not
def test_cyclegan_cycle_loss_falls():
    domain_a, domain_b = shapes(64, seed=1), inverted(shapes(64, seed=3))
    model = build_model(CycleGANConfig(netG="resnet_2blocks", ngf=8, ndf=8), seed=0)
    cycle = []
    for ia, ib in zip(_batches(64, 2, 300, seed=0), _batches(64, 2, 300, seed=1)):
        model.set_input({"A": domain_a[ia], "B": domain_b[ib]})
        losses = train_step(model)
        cycle.append(losses["cycle_A"] + losses["cycle_B"])
    first, last = sum(cycle[:30]) / 30, sum(cycle[-30:]) / 30
    assert last < 0.9 * first, (first, last)
