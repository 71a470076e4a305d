"""Training under torchrun: torch.distributed with DistributedDataParallel, nothing home-made.

``torchrun --nproc_per_node=N gan-studio-train ...`` starts N processes with RANK, WORLD_SIZE and
LOCAL_RANK set; each trains on its share of every batch (NCCL on CUDA, gloo on the CPU) and DDP
averages the gradients. Rank 0 alone writes checkpoints, samples, logs and the library entry, so
checkpoints are the same as a single process writes, and either kind of run resumes the other.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ..errors import ConfigError


@dataclass(frozen=True)
class DistContext:
    rank: int
    world: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def from_env() -> DistContext | None:
    """The torchrun job this process belongs to, or None when it runs alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    return DistContext(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))


def init(ctx: DistContext, device_preference: str = "auto") -> None:
    if dist.is_initialized():
        return
    use_cuda = torch.cuda.is_available() and device_preference not in ("cpu", "mps")
    if use_cuda:
        torch.cuda.set_device(ctx.local_rank)
    dist.init_process_group("nccl" if use_cuda else "gloo")


def device_for(ctx: DistContext, device: torch.device) -> torch.device:
    """Each process its own GPU (LOCAL_RANK); the CPU is shared."""
    return torch.device("cuda", ctx.local_rank) if device.type == "cuda" else device


def wrap(model, ctx: DistContext, sync_batchnorm: bool) -> None:
    """Wrap every net of ``model`` for DDP. Buffers are not broadcast on each forward: a
    discriminator runs twice (real, fake) before its backward, and batch-norm statistics stay
    per process unless synchronised batch norm is asked for (CUDA only)."""
    if model.config.gan_mode == "wgangp":
        raise ConfigError(
            "the WGAN-GP gradient penalty needs double backward, which DistributedDataParallel "
            "does not support: choose gan_mode vanilla or lsgan for multi-process training"
        )
    for name, net in list(model.nets.items()):
        if sync_batchnorm and model.device.type == "cuda":
            net = nn.SyncBatchNorm.convert_sync_batchnorm(net)
        ids = [model.device.index] if model.device.type == "cuda" else None
        model.nets[name] = DistributedDataParallel(net, device_ids=ids, broadcast_buffers=False)


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every process when it is true on any (all stop together, or none waits forever)."""
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def share(value, ctx: DistContext):
    """Rank 0's ``value`` on every process (picklable values only: ids, names)."""
    box = [value if ctx.is_main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def notes(ctx: DistContext | None, batch_size: int, lr: float, scale_lr: bool) -> tuple[str, ...]:
    """What a run under torchrun says at its start: the effective batch and learning rate."""
    if ctx is None:
        return ()
    scaled = lr * (ctx.world if scale_lr else 1)
    return (
        f"distributed over {ctx.world} processes: batch {batch_size} each, effective batch "
        f"{batch_size * ctx.world}; learning rate {scaled:g}" + (" (scaled)" if scale_lr else ""),
    )
