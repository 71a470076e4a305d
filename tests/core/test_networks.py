import pytest
import torch

from training_core.errors import ConfigError
from training_core.models.networks import count_parameters, define_D, define_G, init_weights
from training_core.options import parse_generator, size_multiple

# Measured on the reference implementation (junyanz/pytorch-CycleGAN-and-pix2pix), ngf = ndf = 64.
REFERENCE_COUNTS = [
    ("G", dict(input_nc=3, output_nc=3, ngf=64, netG="unet_256", norm="batch", use_dropout=True), 54_413_955),
    ("G", dict(input_nc=3, output_nc=3, ngf=64, netG="unet_128", norm="batch", use_dropout=True), 41_828_995),
    ("G", dict(input_nc=3, output_nc=3, ngf=64, netG="resnet_9blocks", norm="instance"), 11_378_179),
    ("G", dict(input_nc=3, output_nc=3, ngf=64, netG="resnet_6blocks", norm="instance"), 7_837_699),
    ("D", dict(input_nc=6, ndf=64, netD="basic", norm="batch"), 2_768_705),
    ("D", dict(input_nc=3, ndf=64, netD="basic", norm="instance"), 2_764_737),
    ("D", dict(input_nc=6, ndf=64, netD="pixel", norm="batch"), 9_024),
]


@pytest.mark.parametrize("kind,kwargs,expected", REFERENCE_COUNTS, ids=lambda v: str(v))
def test_parameter_counts_match_the_published_architectures(kind, kwargs, expected):
    net = define_G(**kwargs) if kind == "G" else define_D(**kwargs)
    assert count_parameters(net) == expected


@pytest.mark.parametrize(
    "netG,size",
    [
        ("unet_32", (32, 32)),
        ("unet_32", (64, 96)),
        ("unet_64", (64, 128)),
        ("resnet_2blocks", (36, 20)),
        ("resnet_6blocks", (32, 48)),
    ],
)
@pytest.mark.parametrize("norm", ["batch", "instance", "none"])
def test_generators_keep_the_input_size(netG, size, norm):
    net = define_G(3, 2, 8, netG, norm=norm, use_dropout=True).eval()
    out = net(torch.randn(2, 3, *size))
    assert out.shape == (2, 2, *size)
    assert out.abs().max() <= 1.0  # Tanh output


def test_unet_rejects_sizes_it_cannot_take_with_a_clear_message():
    net = define_G(3, 3, 8, "unet_64")
    with pytest.raises(ValueError, match="multiples of 64.*got 64x100"):
        net(torch.randn(1, 3, 100, 64))


def test_resnet_rejects_sizes_that_would_change_the_output_size():
    with pytest.raises(ValueError, match="multiples of 4"):
        define_G(3, 3, 8, "resnet_1blocks")(torch.randn(1, 3, 30, 32))


@pytest.mark.parametrize(
    "netD,n_layers,size,expected",
    [
        ("basic", 3, 256, 30),  # the 70x70 PatchGAN gives 30x30 patches at 256 px
        ("n_layers", 1, 64, 30),
        ("n_layers", 4, 256, 14),
        ("pixel", 3, 40, 40),
    ],
)
def test_discriminator_patch_maps(netD, n_layers, size, expected):
    net = define_D(6, 8, netD, n_layers_D=n_layers, norm="instance")
    assert net(torch.randn(1, 6, size, size)).shape == (1, 1, expected, expected)


def test_patchgan_receptive_field_is_70_pixels():
    # The gradient of one output patch reaches exactly a 70x70 window of the input.
    net = define_D(3, 4, "basic", norm="none")
    x = torch.randn(1, 3, 256, 256, requires_grad=True)
    net(x)[0, 0, 15, 15].backward()
    rows = torch.nonzero(x.grad[0].abs().sum(0).sum(1)).flatten()
    cols = torch.nonzero(x.grad[0].abs().sum(0).sum(0)).flatten()
    assert rows.max() - rows.min() + 1 == 70
    assert cols.max() - cols.min() + 1 == 70


def test_unet_has_skip_connections():
    # With a skip at every level, the outermost decoder sees 2 * ngf channels (down path + up path).
    net = define_G(3, 3, 8, "unet_32")
    outer = net.model.model
    assert outer[0].out_channels == 8 and outer[3].in_channels == 16


def test_dropout_only_in_the_inner_decoder_levels():
    net = define_G(3, 3, 8, "unet_256", use_dropout=True)
    assert sum(isinstance(m, torch.nn.Dropout) for m in net.modules()) == 3
    assert not any(isinstance(m, torch.nn.Dropout) for m in define_G(3, 3, 8, "unet_256").modules())


@pytest.mark.parametrize("name", ["unet_100", "unet_16", "resnet_0blocks", "vgg", "unet_"])
def test_bad_generator_names_are_refused(name):
    with pytest.raises(ConfigError, match="netG"):
        parse_generator(name)


def test_size_multiple():
    assert size_multiple("unet_256") == 256
    assert size_multiple("resnet_9blocks") == 4


@pytest.mark.parametrize("init_type", ["normal", "xavier", "kaiming", "orthogonal"])
def test_init_types_set_weights_and_zero_biases(init_type):
    net = torch.nn.Sequential(torch.nn.Conv2d(64, 64, 3), torch.nn.BatchNorm2d(64))
    torch.nn.init.constant_(net[0].bias, 5.0)
    init_weights(net, init_type, 0.02)
    assert torch.all(net[0].bias == 0)
    std = net[0].weight.std().item()
    expected = {"normal": 0.02, "kaiming": (2 / (64 * 9)) ** 0.5}.get(init_type)
    if expected:
        assert std == pytest.approx(expected, rel=0.1)
    assert net[1].weight.mean().item() == pytest.approx(1.0, abs=0.02)


def test_unknown_norm_and_init_are_refused():
    with pytest.raises(ConfigError, match="norm"):
        define_G(3, 3, 8, "unet_32", norm="group")
    with pytest.raises(ConfigError, match="init_type"):
        define_D(3, 8, "basic", init_type="uniform")
    with pytest.raises(ConfigError, match="netD"):
        define_D(3, 8, "huge")


@pytest.mark.parametrize("netG,size", [("unet_32", 32), ("unet_64", 64), ("resnet_1blocks", 20)])
def test_resize_convolution_generators_keep_the_size_and_transpose_nothing_above_the_bottleneck(netG, size):
    from training_core.models.networks import define_G

    net = define_G(3, 3, 8, netG, "instance", upsample="resize")
    seen = []
    for m in net.modules():
        if isinstance(m, torch.nn.ConvTranspose2d):
            m.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].shape[-2:]))
    x = torch.rand(2, 3, size, size, requires_grad=True) * 2 - 1
    out = net(x)
    assert out.shape == x.shape
    assert all(shape == (1, 1) for shape in seen)  # a U-Net's 1x1 bottleneck alone: it overlaps nothing
    out.mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
    # The papers' transposed convolutions stay the default (what reference weights load into).
    assert any(isinstance(m, torch.nn.ConvTranspose2d) for m in define_G(3, 3, 8, netG, "instance").modules())


def test_a_model_trained_with_resize_convolution_converts(tmp_path):
    from tiny import TINY_PIX2PIX, paired_report

    from training_core.convert.model_file import translator_for_model
    from training_core.store import ModelLibrary
    from training_core.train.trainer import Trainer

    library = ModelLibrary()
    report = paired_report(tmp_path / "data")
    Trainer.create(report, "soft", overrides=dict(TINY_PIX2PIX, iterations=2, upsample="resize"), library=library).run()
    entry = library.get("soft")
    assert entry.record.model["upsample"] == "resize"
    translator = translator_for_model(entry, "AtoB", torch.device("cpu"))
    from PIL import Image

    assert translator.translate(Image.new("RGB", (40, 24), (200, 30, 30))).size == (40, 24)


def test_spectral_normalisation_holds_each_discriminator_layers_largest_singular_value_at_one():
    from training_core.models.networks import define_D

    net = define_D(6, 8, "basic", spectral_norm=True)
    x = torch.rand(2, 6, 64, 64)
    for _ in range(30):  # the power iteration converges as the critic trains
        net(x)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(torch.nn.utils.parametrize.is_parametrized(m, "weight") for m in convs)
    net.eval()
    for conv in convs:
        top = torch.linalg.matrix_norm(conv.weight.flatten(1), ord=2)
        assert top.item() == pytest.approx(1.0, abs=0.05)
    assert not any(
        torch.nn.utils.parametrize.is_parametrized(m) for m in define_D(6, 8, "basic").modules()
    )  # off by default: the papers' discriminator


def test_a_multi_scale_discriminator_judges_the_image_at_halving_scales():
    net = define_D(6, 8, "basic", num_D=3)
    x = torch.rand(2, 6, 128, 128)
    predictions = net(x)
    assert [p.shape[-1] for p in predictions] == [14, 6, 2]  # 128, 64 and 32 px through a 70x70 PatchGAN
    maps = net.activations(x)
    assert len(maps) == 3 and all(len(scale) == 5 for scale in maps)  # 4 activations and the prediction
    assert all(torch.equal(scale[-1], p) for scale, p in zip(maps, predictions))
    # Three independently drawn discriminators, each the size of the papers' one.
    assert count_parameters(net) == 3 * count_parameters(define_D(6, 8, "basic"))
    # One scale is the plain network: its weights keep the reference's names.
    assert set(define_D(6, 8, "basic", num_D=1).state_dict()) == set(define_D(6, 8, "basic").state_dict())


@pytest.mark.parametrize("netD", ["basic", "pixel", "image"])
def test_every_discriminator_shows_its_layers_and_ends_with_its_prediction(netD):
    net = define_D(6, 8, netD, n_layers_D=2).eval()
    x = torch.rand(1, 6, 64, 64)
    maps = net.activations(x)
    assert len(maps) >= 2 and torch.equal(maps[-1], net(x))


def test_crop_sizes_too_small_for_the_coarsest_scale_are_refused_before_training():
    from training_core.config import DataConfig, Pix2PixConfig

    DataConfig(crop_size=64).check_networks(Pix2PixConfig(netG="unet_32", num_D=2))
    with pytest.raises(ConfigError, match="at 3 scales.*use at least 96"):
        DataConfig(crop_size=64).check_networks(Pix2PixConfig(netG="unet_32", num_D=3))


@pytest.mark.parametrize("padding", [1, 3, (1, 2, 3, 0)])
def test_the_fixed_order_reflection_padding_matches_pytorchs_values_and_gradients(padding):
    from training_core.models.networks import ReflectionPad2d

    pad = ReflectionPad2d(padding)
    x = torch.rand(2, 3, 9, 11, requires_grad=True)
    expected = pad(x)
    weights = torch.rand_like(expected)
    (expected * weights).sum().backward()
    expected_grad, x.grad = x.grad, None
    mine = pad.reflect_in_fixed_order(x)
    (mine * weights).sum().backward()
    assert torch.equal(mine, expected)
    assert torch.allclose(x.grad, expected_grad, atol=1e-6)


def test_the_innermost_level_of_a_resize_unet_still_carries_the_image_in_training():
    """Found by bench/quality.py: resizing the 1x1 bottleneck gives a constant 2x2 map, which batch norm
    on a batch of one turns into nothing; the network then learnt without its bottleneck and translated
    with it (white outputs in eval mode). That level keeps the transposed convolution: from 1x1 it
    overlaps nothing, so it draws no checkerboard either."""
    from training_core.models.networks import UnetSkipConnectionBlock

    net = define_G(3, 3, 8, "unet_32", "batch", upsample="resize").train()
    innermost = [m for m in net.modules() if isinstance(m, UnetSkipConnectionBlock)][-1]
    seen = []
    innermost.register_forward_hook(lambda module, inputs, output: seen.append(output[:, inputs[0].shape[1] :]))
    net(torch.rand(1, 3, 32, 32) * 2 - 1)
    assert seen[0].abs().mean() > 0.1  # normalised values, not float noise around zero
