"""bf16 working copies of the weights, kept between steps, for bf16 training on the CPU.

Autocast casts every convolution's fp32 weight to bf16 again in each autocast region of a step,
and in the backward pass casts its gradient back into a freshly allocated fp32 tensor: for a
U-Net's 54 million weights several hundred MB of copies a step and, for tensors beyond the C
allocator's 32 MB threshold, fresh pages from the kernel every time. Here each such weight has a
bf16 copy, made once per optimizer step, that the layers use while an autocast region is open.
The fp32 weights stay the parameters: the optimizer's master weights, what checkpoints, averages,
samples and conversion see.

The arithmetic is autocast's: the copy is the weight rounded to bf16 as autocast rounds it; each
region's uses of a copy sum their gradients in bf16, as the uses of autocast's cast do, and each
region's sum is added to the weight's fp32 gradient (kept in a buffer from step to step). A step
gives the same numbers as autocast recasting the weights (tests/core/test_bf16_weights.py).

Only the weights autocast would cast (convolutions and linear layers) get a copy; normalisation
layers keep fp32 parameters, as under autocast, and layers with parametrizations (spectral norm)
compute their weight each time and are left to autocast. Inside a region, a part run with autocast
switched off gets the fp32 weights, as it would without the copies.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Iterator

import torch
from torch import nn
from torch.nn.utils import parametrize

CAST_BY_AUTOCAST = (
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
    nn.Linear,
)


class WorkingCopies:
    """The bf16 copies of ``nets``' convolution and linear weights, and their fp32 gradient buffers."""

    def __init__(self, nets: Iterable[nn.Module], dtype: torch.dtype = torch.bfloat16):
        self._slots: list[tuple[nn.Module, str, nn.Parameter]] = []
        self._copy_of: dict[nn.Parameter, torch.Tensor] = {}
        for net in nets:
            for module in net.modules():
                if not isinstance(module, CAST_BY_AUTOCAST) or parametrize.is_parametrized(module):
                    continue
                for name, param in module._parameters.items():
                    if param is not None and param.is_floating_point():
                        self._slots.append((module, name, param))
                        self._copy_of[param] = param.detach().to(dtype)
        # Each weight's version counter (bumped by every in-place change) when its copy was made:
        # weights changed by anything but the optimizer (loading a checkpoint) are copied again.
        self._versions = {param: param._version for param in self._copy_of}
        self._gradient_buffers: dict[nn.Parameter, torch.Tensor] = {}
        self._weights_of: dict[nn.Module, dict[str, nn.Parameter]] = {}
        self._region_copies: dict[nn.Module, dict[str, torch.Tensor]] = {}

    @contextlib.contextmanager
    def in_use(self) -> Iterator[None]:
        """The layers compute with the copies until the region closes."""
        self._refresh([p for p, version in self._versions.items() if p._version != version])
        for module, name, param in self._slots:
            # A leaf of this region's own, on the copy's storage: its uses sum their gradients
            # before the sum goes to the weight, as the uses of one autocast cast do.
            copy = self._copy_of[param].detach().requires_grad_(param.requires_grad)
            if param.requires_grad:
                copy.register_post_accumulate_grad_hook(functools.partial(self._add_to_weight_gradient, param))
            module._parameters[name] = copy  # what module.weight returns until the region closes
            self._weights_of.setdefault(module, {})[name] = param
            self._region_copies.setdefault(module, {})[name] = copy
        hooks = []
        for module in self._weights_of:
            hooks.append(module.register_forward_pre_hook(self._weights_without_autocast))
            hooks.append(module.register_forward_hook(self._copies_again))
        try:
            yield
        finally:
            for hook in hooks:
                hook.remove()
            for module, weights in self._weights_of.items():
                module._parameters.update(weights)
            self._weights_of.clear()
            self._region_copies.clear()

    def _add_to_weight_gradient(self, param: nn.Parameter, copy: torch.Tensor) -> None:
        if param.grad is None:
            buffer = self._gradient_buffers.get(param)
            if buffer is None:
                buffer = self._gradient_buffers[param] = torch.empty_like(param)
            param.grad = buffer.copy_(copy.grad)
        else:
            param.grad.add_(copy.grad)
        copy.grad = None

    def _weights_without_autocast(self, module: nn.Module, args: tuple) -> None:  # a forward pre-hook
        if not torch.is_autocast_enabled(module.weight.device.type):
            module._parameters.update(self._weights_of[module])

    def _copies_again(self, module: nn.Module, args: tuple, output: object) -> None:  # a forward hook
        module._parameters.update(self._region_copies[module])

    def refresh(self, optimizer: torch.optim.Optimizer) -> None:
        """The copies of ``optimizer``'s weights take their values after its step."""
        self._refresh([p for group in optimizer.param_groups for p in group["params"] if p in self._copy_of])

    @torch.no_grad()
    def _refresh(self, params: list[torch.Tensor]) -> None:
        if params:
            torch._foreach_copy_([self._copy_of[p] for p in params], params)  # one pass, rounding to bf16
            self._versions.update((p, p._version) for p in params)
