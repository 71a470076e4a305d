"""Convolutions on small maps as matrix products: the library's results, the library's layers elsewhere."""

import copy

import pytest
import torch
from torch import nn

from training_core.models import small_maps
from training_core.models.networks import define_G
from training_core.models.small_maps import use_library_kernels, use_small_map_kernels

LAYERS = [
    nn.Conv2d(24, 16, 4, 2, 1),  # the U-Net's down convolution
    nn.Conv2d(24, 16, 3, 1, 1, bias=False),
    nn.Conv2d(8, 16, 3, 2, 2, dilation=2),
    nn.Conv2d(8, 16, (3, 1), (1, 2), (0, 1)),
    nn.ConvTranspose2d(24, 16, 4, 2, 1),  # the U-Net's up convolution
    nn.ConvTranspose2d(24, 16, 3, 2, 1, output_padding=1),  # the ResNet generator's
    nn.ConvTranspose2d(16, 8, 3, 1, 0, bias=False),
    nn.ConvTranspose2d(16, 8, (3, 2), (2, 1), (1, 0), dilation=(2, 1)),
]


def _forward_backward(layer, x, grad_out, autocast: bool):
    x = x.detach().clone().requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        y = layer(x)
    y.float().backward(grad_out)
    grads = [p.grad.clone() for p in layer.parameters()]
    layer.zero_grad(set_to_none=True)
    return y, x.grad, grads


@pytest.mark.parametrize("layer", LAYERS, ids=lambda m: repr(m).replace(" ", ""))
@pytest.mark.parametrize("size", [(1, 1), (2, 2), (4, 4), (3, 5), (8, 8)])
@pytest.mark.parametrize("autocast", [False, True], ids=["fp32", "bf16"])
def test_a_small_map_trains_to_the_library_layers_results(layer, size, autocast, monkeypatch):
    torch.manual_seed(0)
    x = torch.randn(2, layer.in_channels, *size)
    try:
        with torch.no_grad():
            reference_out = layer(x)
    except RuntimeError:
        pytest.skip("the library's layer has no output at this size")
    mine = use_small_map_kernels(copy.deepcopy(layer))
    products = []
    monkeypatch.setattr(small_maps.F, "fold", _counted(small_maps.F.fold, products))
    monkeypatch.setattr(small_maps.F, "unfold", _counted(small_maps.F.unfold, products))
    grad_out = torch.randn(reference_out.shape)
    want = _forward_backward(layer, x, grad_out, autocast)
    got = _forward_backward(mine, x, grad_out, autocast)
    assert products, "the small map did not take the matrix path"
    assert got[0].dtype == want[0].dtype and got[0].shape == want[0].shape
    tolerance = 2e-2 if autocast else 1e-5  # bf16 products summed in another order
    for a, b in zip([got[0], got[1], *got[2]], [want[0], want[1], *want[2]]):
        assert (a.float() - b.float()).abs().max() <= tolerance * b.float().abs().max()


def _counted(function, calls):
    def counted(*args, **kwargs):
        calls.append(function.__name__)
        return function(*args, **kwargs)

    return counted


@pytest.mark.parametrize(
    "situation",
    ["evaluating", "no gradients", "large map", "grouped"],
)
def test_elsewhere_the_library_layer_runs_unchanged(situation, monkeypatch):
    torch.manual_seed(0)
    layer = nn.Conv2d(8, 8, 3, 1, 1, groups=2 if situation == "grouped" else 1)
    mine = use_small_map_kernels(copy.deepcopy(layer))
    x = torch.randn(1, 8, 32 if situation == "large map" else 4, 32 if situation == "large map" else 4)
    monkeypatch.setattr(small_maps.F, "unfold", _refuse)
    if situation == "evaluating":
        mine.eval()
    with torch.set_grad_enabled(situation != "no gradients"):
        assert torch.equal(mine(x), layer(x))


def _refuse(*args, **kwargs):
    raise AssertionError("the matrix path ran where the library's layer should")


def test_a_network_keeps_its_state_dict_and_class_names_and_can_go_back():
    torch.manual_seed(0)
    net = define_G(3, 3, 8, "unet_32", "batch")
    keys = list(net.state_dict())
    use_small_map_kernels(net)
    kinds = {type(m) for m in net.modules()}
    assert small_maps.Conv2d in kinds and small_maps.ConvTranspose2d in kinds
    assert list(net.state_dict()) == keys
    assert "ConvTranspose2d(" in repr(net) and "Conv2d(" in repr(net)
    use_library_kernels(net)
    assert {type(m) for m in net.modules()} & {small_maps.Conv2d, small_maps.ConvTranspose2d} == set()
