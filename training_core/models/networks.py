"""Generators and discriminators of pix2pix and CycleGAN.

The module trees mirror the reference PyTorch implementation
(junyanz/pytorch-CycleGAN-and-pix2pix) layer for layer, so parameter counts
match the papers' networks and a reference ``state_dict`` loads by key.
One deliberate difference: with ``norm="none"`` convolutions keep their bias
(the reference drops it, leaving those layers without any offset).
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from ..errors import ConfigError
from ..options import DISCRIMINATORS, INIT_TYPES, NORMS, UPSAMPLING, parse_generator


def norm_layer_factory(norm: str):
    """A callable ``f(channels) -> nn.Module`` for the chosen normalisation."""
    if norm == "batch":
        return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    if norm == "instance":
        return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    if norm == "none":
        return lambda channels: nn.Identity()
    raise ConfigError(f"norm {norm!r} is not valid: choose one of {', '.join(NORMS)}")


class ReflectionPad2d(nn.ReflectionPad2d):
    """Reflection padding that keeps its input's precision under autocast.

    CPU autocast lists reflection padding as an fp32 op, so in bf16 every pad would cast its input
    up to fp32 and the next convolution cast it back down: two needless copies of each feature map
    (measured: a 512 px resnet_9blocks translation took 1.22 s with them, 1.06 s without). Padding
    only copies values, so running it in bf16 loses nothing. Same class name and no parameters:
    state dicts and the module tree stay the reference's.
    """

    def forward(self, x):
        pad = (
            self.reflect_in_fixed_order
            if x.is_cuda and torch.are_deterministic_algorithms_enabled()
            else super().forward
        )
        if not torch.is_autocast_enabled(x.device.type):
            return pad(x)
        with torch.autocast(x.device.type, enabled=False):
            return pad(x)

    def reflect_in_fixed_order(self, x):
        """The same padding from slices, flips and concatenation: CUDA's reflection-pad gradient adds
        with atomics (no fixed order, so PyTorch refuses it in deterministic mode); these ops' gradients
        are sums autograd makes in a fixed order."""
        left, right, top, bottom = self.padding
        x = torch.cat((x[..., 1 : left + 1].flip(-1), x, x[..., -right - 1 : -1].flip(-1)), -1)
        return torch.cat((x[..., 1 : top + 1, :].flip(-2), x, x[..., -bottom - 1 : -1, :].flip(-2)), -2)


def _conv_bias(norm: str) -> bool:
    # Batch norm has its own learned shift; instance norm (no affine) and no norm need the bias.
    return norm != "batch"


# Bounds on what any file may ask us to build: far beyond the papers (unet_256, resnet_9blocks),
# and small enough that a tampered model file cannot make the app allocate without bound.
def upsampling(in_nc: int, out_nc: int, bias: bool, mode: str, kernel_size: int = 4) -> nn.Module:
    """Double the size: "transpose", the papers' transposed convolution (what reference weights
    fit), or "resize", nearest-neighbour resize then a 3x3 convolution, which cannot make the
    checkerboard pattern of uneven overlaps (Odena et al., Distill 2016)."""
    if mode == "resize":
        return nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), ReflectionPad2d(1), nn.Conv2d(in_nc, out_nc, 3, bias=bias)
        )
    if mode != "transpose":
        raise ConfigError(f"upsample {mode!r} is not valid: choose one of {', '.join(UPSAMPLING)}")
    if kernel_size == 3:  # the ResNet generator's
        return nn.ConvTranspose2d(in_nc, out_nc, 3, stride=2, padding=1, output_padding=1, bias=bias)
    return nn.ConvTranspose2d(in_nc, out_nc, kernel_size=4, stride=2, padding=1, bias=bias)


class UnetSkipConnectionBlock(nn.Module):
    """One level of the U-Net: down, the inner levels, up, and the skip concatenation."""

    def __init__(
        self,
        outer_nc,
        inner_nc,
        input_nc=None,
        submodule=None,
        outermost=False,
        innermost=False,
        norm="batch",
        use_dropout=False,
        upsample="transpose",
    ):
        super().__init__()
        self.outermost = outermost
        norm_layer = norm_layer_factory(norm)
        bias = _conv_bias(norm)
        input_nc = outer_nc if input_nc is None else input_nc
        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=bias)
        downrelu = nn.LeakyReLU(0.2, True)
        uprelu = nn.ReLU(True)
        if outermost:
            upconv = upsampling(inner_nc * 2, outer_nc, True, upsample)
            layers = [downconv, submodule, uprelu, upconv, nn.Tanh()]
        elif innermost:
            # Always transposed here: resizing the 1x1 bottleneck gives a constant map, which batch norm
            # on a batch of one erases (the net would train without its bottleneck and translate with
            # it). From 1x1 a transposed convolution overlaps nothing: it draws no checkerboard.
            upconv = upsampling(inner_nc, outer_nc, bias, "transpose")
            layers = [downrelu, downconv, uprelu, upconv, norm_layer(outer_nc)]
        else:
            upconv = upsampling(inner_nc * 2, outer_nc, bias, upsample)
            layers = [downrelu, downconv, norm_layer(inner_nc), submodule, uprelu, upconv, norm_layer(outer_nc)]
            if use_dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    """U-Net with ``num_downs`` downsamplings; dropout (if on) in the three inner decoder levels."""

    def __init__(self, input_nc, output_nc, num_downs, ngf=64, norm="batch", use_dropout=False, upsample="transpose"):
        super().__init__()
        if num_downs < 5:
            raise ConfigError(f"a U-Net needs at least 5 downsamplings, got {num_downs}")
        self.multiple = 2**num_downs
        level = functools.partial(UnetSkipConnectionBlock, norm=norm, upsample=upsample)
        block = level(ngf * 8, ngf * 8, innermost=True)
        for _ in range(num_downs - 5):
            block = level(ngf * 8, ngf * 8, submodule=block, use_dropout=use_dropout)
        block = level(ngf * 4, ngf * 8, submodule=block)
        block = level(ngf * 2, ngf * 4, submodule=block)
        block = level(ngf, ngf * 2, submodule=block)
        self.model = level(output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True)

    def forward(self, x):
        h, w = x.shape[-2:]
        if h % self.multiple or w % self.multiple:
            raise ValueError(
                f"this U-Net needs width and height that are multiples of {self.multiple}; "
                f"got {w}x{h}. Resize, crop or pad the image first "
                "(the translator pads automatically)."
            )
        return self.model(x)


class ResnetBlock(nn.Module):
    """Two reflection-padded 3x3 convolutions with a residual connection."""

    def __init__(self, dim, norm="instance", use_dropout=False):
        super().__init__()
        norm_layer = norm_layer_factory(norm)
        bias = _conv_bias(norm)
        layers = [ReflectionPad2d(1), nn.Conv2d(dim, dim, kernel_size=3, bias=bias), norm_layer(dim), nn.ReLU(True)]
        if use_dropout:
            layers.append(nn.Dropout(0.5))
        layers += [ReflectionPad2d(1), nn.Conv2d(dim, dim, kernel_size=3, bias=bias), norm_layer(dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """Johnson et al.'s generator: 7x7 stem, two stride-2 downs, residual blocks, two ups, 7x7 out."""

    multiple = 4

    def __init__(
        self, input_nc, output_nc, ngf=64, norm="instance", use_dropout=False, n_blocks=9, upsample="transpose"
    ):
        super().__init__()
        norm_layer = norm_layer_factory(norm)
        bias = _conv_bias(norm)
        layers = [
            ReflectionPad2d(3),
            nn.Conv2d(input_nc, ngf, kernel_size=7, bias=bias),
            norm_layer(ngf),
            nn.ReLU(True),
        ]
        for i in range(2):
            mult = 2**i
            layers += [
                nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1, bias=bias),
                norm_layer(ngf * mult * 2),
                nn.ReLU(True),
            ]
        layers += [ResnetBlock(ngf * 4, norm=norm, use_dropout=use_dropout) for _ in range(n_blocks)]
        for i in range(2):
            mult = 2 ** (2 - i)
            layers += [
                upsampling(ngf * mult, ngf * mult // 2, bias, upsample, kernel_size=3),
                norm_layer(ngf * mult // 2),
                nn.ReLU(True),
            ]
        layers += [ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, kernel_size=7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        h, w = x.shape[-2:]
        if h % self.multiple or w % self.multiple:
            # Any size runs, but the output would come back smaller or larger than the input.
            raise ValueError(f"this ResNet generator needs width and height that are multiples of 4; got {w}x{h}")
        return self.model(x)


class NLayerDiscriminator(nn.Module):
    """PatchGAN: classifies overlapping patches; 3 layers give the 70x70 receptive field."""

    def __init__(self, input_nc, ndf=64, n_layers=3, norm="batch"):
        super().__init__()
        norm_layer = norm_layer_factory(norm)
        bias = _conv_bias(norm)
        layers = [nn.Conv2d(input_nc, ndf, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2**n, 8)
            layers += [
                nn.Conv2d(ndf * prev, ndf * mult, kernel_size=4, stride=2, padding=1, bias=bias),
                norm_layer(ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
        prev, mult = mult, min(2**n_layers, 8)
        layers += [
            nn.Conv2d(ndf * prev, ndf * mult, kernel_size=4, stride=1, padding=1, bias=bias),
            norm_layer(ndf * mult),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * mult, 1, kernel_size=4, stride=1, padding=1),
        ]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)

    def activations(self, x) -> list[torch.Tensor]:
        maps, prediction = _activations(self.model, x)
        return maps + [prediction]


def _activations(layers: nn.Sequential, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The feature maps after each activation of ``layers`` (what pix2pixHD's feature matching
    compares), and their output.

    Every discriminator's ``activations(x)`` gives those maps with its prediction last."""
    maps = []
    for layer in layers:
        x = layer(x)
        if isinstance(layer, nn.LeakyReLU):
            maps.append(x)
    return maps, x


class PixelDiscriminator(nn.Module):
    """1x1 PatchGAN: judges each pixel on its own (colour, not structure)."""

    def __init__(self, input_nc, ndf=64, norm="batch"):
        super().__init__()
        bias = _conv_bias(norm)
        self.net = nn.Sequential(
            nn.Conv2d(input_nc, ndf, kernel_size=1),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, kernel_size=1, bias=bias),
            norm_layer_factory(norm)(ndf * 2),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, 1, kernel_size=1, bias=bias),
        )

    def forward(self, x):
        return self.net(x)

    def activations(self, x) -> list[torch.Tensor]:
        maps, prediction = _activations(self.net, x)
        return maps + [prediction]


class ImageDiscriminator(nn.Module):
    """One real/fake score per image: convolutions with leaky ReLU, each followed by average pooling,
    then global pooling (so any input size works) and a dense layer."""

    def __init__(self, input_nc, ndf=64, n_layers=3, norm="batch"):
        super().__init__()
        norm_layer = norm_layer_factory(norm)
        bias = _conv_bias(norm)
        layers = [nn.Conv2d(input_nc, ndf, kernel_size=3, padding=1), nn.LeakyReLU(0.2, True), nn.AvgPool2d(2)]
        channels = ndf
        for n in range(1, n_layers + 1):
            out = ndf * min(2**n, 8)
            layers += [
                nn.Conv2d(channels, out, kernel_size=3, padding=1, bias=bias),
                norm_layer(out),
                nn.LeakyReLU(0.2, True),
                nn.AvgPool2d(2),
            ]
            channels = out
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.score = nn.Linear(channels, 1)

    def forward(self, x):
        return self.score(self.features(x))

    def activations(self, x) -> list[torch.Tensor]:
        maps, pooled = _activations(self.features, x)
        return maps + [self.score(pooled)]


class MultiscaleDiscriminator(nn.Module):
    """pix2pixHD's discriminator (Wang et al., CVPR 2018): the same design at several scales, each
    judging the input halved once more, so the coarse ones see the whole layout and the fine one the
    texture. Gives one prediction per scale, finest first."""

    def __init__(self, build, num_D: int):
        super().__init__()
        self.scales = nn.ModuleList(build() for _ in range(num_D))
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)

    def _inputs(self, x):
        for i in range(len(self.scales)):
            yield x
            if i + 1 < len(self.scales):
                x = self.downsample(x)

    def forward(self, x) -> list[torch.Tensor]:
        return [net(xi) for net, xi in zip(self.scales, self._inputs(x))]

    def activations(self, x) -> list[list[torch.Tensor]]:
        return [net.activations(xi) for net, xi in zip(self.scales, self._inputs(x))]


def predictions(maps: list) -> torch.Tensor | list[torch.Tensor]:
    """The prediction within ``activations()``: what the discriminator's forward gives for the same input."""
    return [scale[-1] for scale in maps] if isinstance(maps[0], list) else maps[-1]


def init_weights(net: nn.Module, init_type="normal", init_gain=0.02) -> nn.Module:
    """Initialise conv/linear weights as the papers do; batch-norm scales around 1."""
    if init_type not in INIT_TYPES:
        raise ConfigError(f"init_type {init_type!r} is not valid: choose one of {', '.join(INIT_TYPES)}")

    def init(m):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            if init_type == "normal":
                nn.init.normal_(m.weight, 0.0, init_gain)
            elif init_type == "xavier":
                nn.init.xavier_normal_(m.weight, gain=init_gain)
            elif init_type == "kaiming":
                nn.init.kaiming_normal_(m.weight, a=0, mode="fan_in")
            else:
                nn.init.orthogonal_(m.weight, gain=init_gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, init_gain)
            nn.init.zeros_(m.bias)

    return net.apply(init)


def define_G(
    input_nc,
    output_nc,
    ngf,
    netG,
    norm="batch",
    use_dropout=False,
    init_type="normal",
    init_gain=0.02,
    upsample="transpose",
) -> nn.Module:
    kind, n = parse_generator(netG)
    norm_layer_factory(norm)  # validates the name before any layer is built
    if kind == "unet":
        net = UnetGenerator(input_nc, output_nc, n, ngf, norm=norm, use_dropout=use_dropout, upsample=upsample)
    else:
        net = ResnetGenerator(
            input_nc, output_nc, ngf, norm=norm, use_dropout=use_dropout, n_blocks=n, upsample=upsample
        )
    return init_weights(net, init_type, init_gain)


def _discriminator(input_nc, ndf, netD, n_layers_D, norm) -> nn.Module:
    if netD == "basic":
        return NLayerDiscriminator(input_nc, ndf, n_layers=3, norm=norm)
    if netD == "n_layers":
        return NLayerDiscriminator(input_nc, ndf, n_layers=n_layers_D, norm=norm)
    if netD == "pixel":
        return PixelDiscriminator(input_nc, ndf, norm=norm)
    if netD == "image":
        return ImageDiscriminator(input_nc, ndf, n_layers=n_layers_D, norm=norm)
    raise ConfigError(f"netD {netD!r} is not valid: choose one of {', '.join(DISCRIMINATORS)}")


def define_D(
    input_nc,
    ndf,
    netD,
    n_layers_D=3,
    norm="batch",
    init_type="normal",
    init_gain=0.02,
    spectral_norm=False,
    num_D=1,
) -> nn.Module:
    """A discriminator; with ``num_D`` > 1, that many of them at halving scales (its output is then a
    list of predictions). One scale is the plain network, so its weights keep the reference's names."""
    norm_layer_factory(norm)
    if num_D > 1:
        net = MultiscaleDiscriminator(lambda: _discriminator(input_nc, ndf, netD, n_layers_D, norm), num_D)
    else:
        net = _discriminator(input_nc, ndf, netD, n_layers_D, norm)
    net = init_weights(net, init_type, init_gain)
    if spectral_norm:  # Miyato et al. 2018: each layer's largest singular value held at 1
        for module in list(net.modules()):
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.utils.parametrizations.spectral_norm(module)
    return net


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
