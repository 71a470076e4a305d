"""Convolutions on small feature maps as plain matrix products, for training on the CPU.

At batch 1 the inner levels of a U-Net convolve 1x1 to 8x8 maps with 512 to 1024 channels: a few
million weights for a few dozen pixels. oneDNN's convolution kernels spend most of such a layer
reordering the weights for the matrix units and splitting too little work over the threads; the
same arithmetic as one matrix product over the unfolded input (and, for a transposed convolution,
the product folded back) measured 2x to 5x faster forward and backward on a 2-core AVX-512 CPU in
both bf16 and fp32 (bench/README.md, issue 26). Larger maps keep oneDNN, which is faster there.

The layers keep their class names, parameters and state-dict keys: only ``forward`` differs, and
only while training on the CPU. Evaluation, export and tracing take the library's kernels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Output pixels per image (a convolution) or input pixels (a transposed one) up to which the
# matrix product wins: 8x8. At 16x16 the two measured even, at 32x32 oneDNN is 1.3x faster.
SMALL_MAP_PIXELS = 64


def _takes_matrix_path(layer: nn.Module, pixels: int, x: torch.Tensor) -> bool:
    return (
        layer.training
        and torch.is_grad_enabled()
        and x.device.type == "cpu"
        and x.dim() == 4
        and pixels <= SMALL_MAP_PIXELS
        and not torch.jit.is_tracing()
        and not torch.compiler.is_compiling()
        and not torch.onnx.is_in_onnx_export()
    )


def _operands(layer: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Input, weight and bias in the dtype the library's convolution would compute in (autocast's)."""
    weight, bias = layer.weight, layer.bias
    if torch.is_autocast_enabled("cpu"):
        dtype = torch.get_autocast_dtype("cpu")
        x, weight = x.to(dtype), weight.to(dtype)
        bias = None if bias is None else bias.to(dtype)
    return x, weight, bias


def _plus_bias(y: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    return y if bias is None else y + bias.to(y.dtype)[:, None, None]


class Conv2d(nn.Conv2d):
    """``nn.Conv2d`` that trains small output maps as unfold + matrix product."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.groups != 1 or self.padding_mode != "zeros" or isinstance(self.padding, str):
            return super().forward(x)
        h, w = x.shape[-2:]
        out_h, out_w = (
            (size + 2 * p - d * (k - 1) - 1) // s + 1
            for size, p, d, k, s in zip((h, w), self.padding, self.dilation, self.kernel_size, self.stride)
        )
        if not _takes_matrix_path(self, out_h * out_w, x):
            return super().forward(x)
        x, weight, bias = _operands(self, x)
        columns = F.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)  # N, Cin*kh*kw, L
        y = weight.reshape(weight.shape[0], -1) @ columns
        return _plus_bias(y.reshape(x.shape[0], weight.shape[0], out_h, out_w), bias)


class ConvTranspose2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` that trains small input maps as matrix product + fold (the transpose of
    a convolution's unfold + product)."""

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        if output_size is not None or self.groups != 1 or self.padding_mode != "zeros":
            return super().forward(x, output_size)
        h, w = x.shape[-2:]
        if not _takes_matrix_path(self, h * w, x):
            return super().forward(x)
        x, weight, bias = _operands(self, x)
        c_in, c_out = weight.shape[:2]
        size = tuple(
            (i - 1) * s - 2 * p + d * (k - 1) + op + 1
            for i, s, p, d, k, op in zip(
                (h, w), self.stride, self.padding, self.dilation, self.kernel_size, self.output_padding
            )
        )
        columns = weight.reshape(c_in, -1).t() @ x.reshape(x.shape[0], c_in, h * w)  # N, Cout*kh*kw, L
        y = F.fold(columns, size, self.kernel_size, self.dilation, self.padding, self.stride)
        return _plus_bias(y, bias)


_FASTER = {nn.Conv2d: Conv2d, nn.ConvTranspose2d: ConvTranspose2d}


def use_small_map_kernels(net: nn.Module) -> nn.Module:
    """Give ``net``'s plain 2-D (transposed) convolutions the small-map training path, in place."""
    for module in net.modules():
        faster = _FASTER.get(type(module))
        if faster is not None:
            module.__class__ = faster  # same attributes and parameters: only forward differs
    return net


def use_library_kernels(net: nn.Module) -> nn.Module:
    """Undo ``use_small_map_kernels``: PyTorch's own layers again (the benchmarks' plain baseline)."""
    for module in net.modules():
        for plain, faster in _FASTER.items():
            if type(module) is faster:
                module.__class__ = plain
    return net
