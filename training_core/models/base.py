"""What every model family has in common: nets, optimizers, and the few verbs the trainer uses."""

from __future__ import annotations

import contextlib
import copy
from abc import ABC, abstractmethod
from collections.abc import Callable
from itertools import chain

import torch
from torch import nn

from ..config import ModelConfig
from ..device import autocast_dtype
from .bf16_weights import WorkingCopies
from .small_maps import use_small_map_kernels

FUSED_OPTIMIZER_DEVICES = ("cpu", "cuda")


def _with_kernel_choice(saved: dict, optimizer: torch.optim.Optimizer) -> dict:
    """``saved`` with this optimizer's fused/foreach choice instead of the one it was written with.

    Loading keeps the saved groups' settings, so a checkpoint from an older version or another
    device would otherwise switch the fast kernel off, or on where the device has none.
    """
    if len(saved["param_groups"]) != len(optimizer.param_groups):
        return saved  # load_state_dict says what does not match
    groups = []
    for saved_group, group in zip(saved["param_groups"], optimizer.param_groups):
        groups.append({**saved_group, **{k: group[k] for k in ("fused", "foreach") if k in group}})
    return {**saved, "param_groups": groups}


class GANModel(ABC):
    """A model family: ``set_input`` -> ``train_step`` -> losses; ``translate``; full state.

    Subclasses fill ``nets`` (name -> module) and ``optimizers`` (name ->
    optimizer). Network weights are drawn from ``seed`` without touching the
    global random state, so two models built with one seed are identical.
    """

    loss_names: tuple[str, ...] = ()
    directions: tuple[str, ...] = ("AtoB",)
    generator_names: tuple[str, ...] = ("G",)  # the nets that translate (averaged when ema_decay > 0)

    def __init__(self, config: ModelConfig, device: str | torch.device = "cpu", seed: int = 0, precision: str = "fp32"):
        self.config = config.validate()
        self.device = torch.device(device)
        self.seed = seed
        self.nets: dict[str, nn.Module] = {}
        # Exponential moving averages of the generators' weights (Yazici et al., ICLR 2019): what
        # samples, validation, the saved model and conversion use when ema_decay > 0.
        self.averaged: dict[str, nn.Module] = {}
        self.average_updates = 0
        self.compiled = self.graphs = False
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        # Mixed precision: bf16 needs no loss scaling; fp16 does, or small gradients vanish.
        self._amp_dtype = autocast_dtype(precision)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=precision == "fp16")
        # bf16 on the CPU: bf16 copies of the weights kept between steps (made at the first step).
        self.working_copies: WorkingCopies | None = None
        self.keeps_working_copies = self.device.type == "cpu" and self._amp_dtype == torch.bfloat16

    # -- building -----------------------------------------------------------
    def _build(self, builders: dict[str, Callable[[], nn.Module]]) -> None:
        """Build the named nets from ``seed`` and move them to the device."""
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.seed)
            for name, build in builders.items():
                self.nets[name] = build().to(self.device)
                if self.device.type == "cpu":
                    use_small_map_kernels(self.nets[name])
        if self.config.ema_decay > 0:
            for name in self.generator_names:
                self.averaged[name] = copy.deepcopy(self.nets[name]).requires_grad_(False)

    def _optimizer(self, kind: str, *names: str) -> torch.optim.Optimizer:
        """The optimizer ``kind`` (adam, rmsprop, sgd) over the named nets' parameters."""
        c = self.config
        params = list(chain.from_iterable(self.nets[n].parameters() for n in names))
        # One fused kernel per step instead of PyTorch's default loop of a dozen ops per tensor: the
        # same update, and on the CPU it took a 54M-parameter U-Net's Adam step from 173 to 18 ms.
        fused = self.device.type in FUSED_OPTIMIZER_DEVICES
        if kind == "rmsprop":  # RMSprop has no fused kernel; foreach batches its ops over tensors
            return torch.optim.RMSprop(params, lr=c.lr, momentum=c.momentum, foreach=True)
        if kind == "sgd":
            return torch.optim.SGD(params, lr=c.lr, momentum=c.momentum, fused=fused or None)
        return torch.optim.Adam(params, lr=c.lr, betas=(c.beta1, c.beta2), fused=fused or None)

    def compile(self) -> None:
        """torch.compile every network in place (state dicts keep their keys). On CUDA in the
        "reduce-overhead" mode: each network's forward and backward replay as captured CUDA graphs,
        which at batch 1 removes most of the per-kernel launch cost; shapes the graphs have not seen
        (validation, a last short batch) compile once more or run eagerly."""
        self.graphs = self.device.type == "cuda"
        for net in self.nets.values():
            net.compile(mode="reduce-overhead" if self.graphs else None)
        self.compiled = True
        self.keeps_working_copies = False  # compiled graphs see the parameters themselves

    def begin_step(self) -> None:
        """Tell captured CUDA graphs that a new iteration begins: the last one's outputs may be reused."""
        if self.graphs:
            torch.compiler.cudagraph_mark_step_begin()

    def plain(self, name: str) -> nn.Module:
        """The network itself, also when it is wrapped for DistributedDataParallel."""
        net = self.nets[name]
        return getattr(net, "module", net)

    @staticmethod
    def set_requires_grad(nets, flag: bool) -> None:
        """Freeze discriminators while the generator learns (saves their gradients)."""
        for net in nets:
            for p in net.parameters():
                p.requires_grad_(flag)

    @contextlib.contextmanager
    def autocast(self):
        """Context for forward passes and losses in the configured precision."""
        with torch.autocast(self.device.type, dtype=self._amp_dtype, enabled=self._amp_dtype is not None):
            copies = self._working_copies()
            if copies is None:
                yield
            else:
                with copies.in_use():
                    yield

    def _working_copies(self) -> WorkingCopies | None:
        if not self.keeps_working_copies:
            return None
        if any(net is not self.plain(name) for name, net in self.nets.items()):
            return None  # DistributedDataParallel reduces the gradients of the parameters themselves
        if self.working_copies is None:
            self.working_copies = WorkingCopies(self.nets.values(), self._amp_dtype)
        return self.working_copies

    def _backward(self, loss: torch.Tensor) -> None:
        self.scaler.scale(loss).backward()

    def _step(self, name: str) -> None:
        optimizer = self.optimizers[name]
        self.scaler.step(optimizer)
        if self.working_copies is not None:
            self.working_copies.refresh(optimizer)

    def _end_iteration(self) -> None:
        """Let the fp16 loss scaler adapt and the averages follow, once per iteration after every step."""
        self.scaler.update()
        if self.averaged:
            self._update_averages()

    @torch.no_grad()
    def _update_averages(self) -> None:
        # Warm-up (as TensorFlow's ExponentialMovingAverage with a step count): a fixed 0.999 would
        # still hold a third of the random initial weights after 1000 iterations.
        self.average_updates += 1
        decay = min(self.config.ema_decay, (1 + self.average_updates) / (10 + self.average_updates))
        weight = 1.0 - decay
        for name, average in self.averaged.items():
            live = self.plain(name)
            torch._foreach_lerp_(list(average.parameters()), list(live.parameters()), weight)
            for mine, theirs in zip(average.buffers(), live.buffers()):  # batch-norm statistics: as trained
                mine.copy_(theirs)

    def translating(self, name: str) -> nn.Module:
        """The generator ``name`` as it translates: its average where there is one."""
        average = self.averaged.get(name)
        return average if average is not None else self.plain(name)

    # -- the verbs ------------------------------------------------------------
    def set_input(self, batch: dict) -> None:
        """Take a batch from the datasets: tensors "A" and "B" in [-1, 1], NCHW."""
        self.real_A = batch["A"].to(self.device, non_blocking=True)
        self.real_B = batch["B"].to(self.device, non_blocking=True)

    @abstractmethod
    def step(self) -> dict[str, torch.Tensor]:
        """The step itself; the losses stay on the device, so nothing waits for it to finish."""

    @abstractmethod
    def generator(self, direction: str = "AtoB") -> nn.Module:
        """The generator that translates in ``direction``."""

    @torch.no_grad()
    def translate(self, images: torch.Tensor, direction: str = "AtoB") -> torch.Tensor:
        """Run the generator for ``direction`` in eval mode on images in [-1, 1]."""
        net = self.generator(direction)
        was_training = net.training
        net.eval()
        try:
            return net(images.to(self.device))
        finally:
            net.train(was_training)

    def train(self, mode: bool = True) -> None:
        for net in self.nets.values():
            net.train(mode)
        for net in self.averaged.values():  # the average translates only: no dropout, running statistics
            net.eval()

    def eval(self) -> None:
        self.train(False)

    # -- state ----------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything the model needs to continue training: nets, optimizers, extras."""
        return {
            "nets": {n: self.plain(n).state_dict() for n in self.nets},
            "optimizers": {n: opt.state_dict() for n, opt in self.optimizers.items()},
            "scaler": self.scaler.state_dict(),
            "extra": self.extra_state(),
            "averaged": {n: net.state_dict() for n, net in self.averaged.items()},
            "average_updates": self.average_updates,
        }

    def load_state_dict(self, state: dict) -> None:
        for name in self.nets:
            self.plain(name).load_state_dict(state["nets"][name])
        for name, opt in self.optimizers.items():
            opt.load_state_dict(_with_kernel_choice(state["optimizers"][name], opt))
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        for name, average in self.averaged.items():
            average.load_state_dict(state.get("averaged", {}).get(name) or self.plain(name).state_dict())
        # Checkpoints from before the warm-up: past it.
        self.average_updates = int(state.get("average_updates", 10**9))
        self.load_extra_state(state.get("extra", {}))

    def extra_state(self) -> dict:
        return {}

    def load_extra_state(self, state: dict) -> None:  # noqa: B027 (optional hook: most families have none)
        pass
