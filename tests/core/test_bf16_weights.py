"""bf16 working copies of the weights: autocast's numbers without recasting every weight each region."""

import copy

import pytest
import torch
from torch import nn

from training_core.config import CUTConfig, CycleGANConfig, Pix2PixConfig
from training_core.models.bf16_weights import WorkingCopies
from training_core.models.registry import build_model
from training_core.models.small_maps import use_library_kernels

CASES = {
    "pix2pix": Pix2PixConfig(netG="unet_32", ngf=8, ndf=8),
    # A discriminator with spectral norm (left to autocast), the gradient penalty's double backward,
    # and feature matching's second pass through the frozen discriminator.
    "pix2pix wgangp": Pix2PixConfig(
        netG="unet_32", ngf=8, ndf=8, gan_mode="wgangp", spectral_norm=True, lambda_feat=10.0
    ),
    # Each generator in two autocast regions of one step (the translations and the identity terms).
    "cyclegan": CycleGANConfig(netG="resnet_1blocks", ngf=8, ndf=8, pool_size=2),
    # Linear heads, and a part of a region with autocast switched off.
    "cut": CUTConfig(netG="resnet_1blocks", ngf=8, ndf=8, num_patches=16),
}


def _batches(count: int):
    g = torch.Generator().manual_seed(1)
    return [{k: torch.rand(1, 3, 32, 32, generator=g) * 2 - 1 for k in "AB"} for _ in range(count)]


def _train(config, copies: bool, batches, state=None, library_kernels=True):
    torch.manual_seed(7)  # dropout draws from the global generator
    model = build_model(config, device="cpu", precision="bf16")
    model.keeps_working_copies = copies
    if library_kernels:  # both sides convolve alike: the comparison is of the weights' casts alone
        for net in model.nets.values():
            use_library_kernels(net)
    if state is not None:
        model.load_state_dict(copy.deepcopy(state))  # optimizers take the state's tensors as their own
    for batch in batches:
        model.set_input(batch)
        model.step()
    return model


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    return a == b


@pytest.mark.parametrize("case", CASES)
def test_training_with_the_copies_gives_autocasts_numbers_to_the_last_bit(case):
    batches = _batches(3)
    recast = _train(CASES[case], copies=False, batches=batches)
    kept = _train(CASES[case], copies=True, batches=batches)
    assert recast.working_copies is None and kept.working_copies is not None
    state = kept.state_dict()
    assert all(
        v.dtype == torch.float32 for net in state["nets"].values() for v in net.values() if v.is_floating_point()
    )
    assert _same(state, recast.state_dict())


def test_weights_loaded_after_the_copies_were_made_are_the_ones_trained_on():
    batches = _batches(4)
    config = CASES["pix2pix"]
    elsewhere = _train(config, copies=True, batches=batches[:2], library_kernels=False).state_dict()
    # Its copies are made and used by a step, then the weights change under them by loading.
    model = _train(config, copies=True, batches=batches[2:3], library_kernels=False)
    model.load_state_dict(copy.deepcopy(elsewhere))
    torch.manual_seed(7)
    model.set_input(batches[3])
    model.step()
    fresh = _train(config, copies=True, batches=[], state=elsewhere, library_kernels=False)
    assert fresh.working_copies is None  # made at its first step, from the loaded weights
    torch.manual_seed(7)
    fresh.set_input(batches[3])
    fresh.step()
    assert _same(model.state_dict()["nets"], fresh.state_dict()["nets"])


def test_inside_a_region_a_part_without_autocast_computes_with_the_fp32_weights():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    copies = WorkingCopies([net])
    x = torch.randn(1, 3, 8, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16), copies.in_use():
        assert net[0].weight.dtype == torch.bfloat16 and net(x).dtype == torch.bfloat16
        with torch.autocast("cpu", enabled=False):
            exact = net(x)
        assert net[0].weight.dtype == torch.bfloat16  # the copies again after that layer
    assert exact.dtype == torch.float32 and torch.equal(exact, net(x))
    assert net[0].weight.dtype == torch.float32 and isinstance(net[0].weight, nn.Parameter)


def test_gradients_reach_the_fp32_weights_summed_over_regions_and_the_copies_follow_the_step():
    torch.manual_seed(0)
    net = nn.Linear(4, 3)
    copies = WorkingCopies([net])
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    x = torch.randn(2, 4)
    losses = []
    for _ in range(2):  # two regions, one backward
        with torch.autocast("cpu", dtype=torch.bfloat16), copies.in_use():
            losses.append(net(x).float().square().sum())
    sum(losses).backward()
    assert net.weight.grad.dtype == torch.float32
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = torch.autograd.grad(2 * net(x).float().square().sum(), net.weight)[0]
    assert torch.allclose(net.weight.grad, expected, rtol=1e-2)
    optimizer.step()
    copies.refresh(optimizer)
    with torch.autocast("cpu", dtype=torch.bfloat16), copies.in_use():
        used = net.weight.detach().clone()
    assert torch.equal(used, net.weight.detach().to(torch.bfloat16))
