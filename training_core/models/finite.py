"""Which weights are not finite numbers (NaN or infinity): a diverged training, or a changed file.

Such weights translate every photo into noise or black, so the trainer never
saves them and conversion refuses them; both name the first few tensors.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

SHOWN = 3  # tensor names given in a message


def float_tensors(tree: object, prefix: str = "") -> Iterator[tuple[str, torch.Tensor]]:
    """(dotted name, tensor) for every floating-point tensor in nested dicts, lists and tuples."""
    if isinstance(tree, torch.Tensor):
        if tree.is_floating_point():
            yield prefix, tree
    elif isinstance(tree, dict):
        for key, value in tree.items():
            yield from float_tensors(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(tree, (list, tuple)):
        for i, value in enumerate(tree):
            yield from float_tensors(value, f"{prefix}.{i}" if prefix else str(i))


def nonfinite_names(tree: object) -> list[str]:
    """The names of the tensors in ``tree`` holding NaN or infinity; empty when all are finite.

    One device read for the common case (all finite): a check per checkpoint costs next to nothing."""
    named = list(float_tensors(tree))
    by_device: dict[torch.device, list[torch.Tensor]] = {}
    for _, t in named:  # Adam keeps its step counts on the CPU beside weights on a GPU
        by_device.setdefault(t.device, []).append(torch.isfinite(t).all())
    if all(bool(torch.stack(flags).all()) for flags in by_device.values()):
        return []
    return [name for name, t in named if not bool(torch.isfinite(t).all())]


def describe(names: list[str]) -> str:
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more
