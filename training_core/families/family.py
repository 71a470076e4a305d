"""What every family is: the facts the engine and the app ask for, and its two pieces of tensor code.

See the package's docstring for what each entry means. Torch-free: a family's tensor code calls
its model's ``translate`` and never imports torch.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Protocol

from ..config import ModelConfig

PAIRED, UNPAIRED = "paired", "unpaired"  # what a run of the family trains on: (A, B) pairs, or two domains
Images = Any  # a torch.Tensor, CHW or NCHW in [-1, 1]: named without loading torch


class Translating(Protocol):
    """What a family's tensor code asks of its model (``models.base.GANModel``)."""

    def translate(self, images: Images, direction: str = "AtoB") -> Images: ...


class Family(ABC):
    name: ClassVar[str]
    title: ClassVar[str]
    label: ClassVar[str]
    about: ClassVar[str]
    config: ClassVar[type[ModelConfig]]
    model: ClassVar[str]
    data: ClassVar[str]
    layouts: ClassVar[tuple[str, ...]]
    usual_for: ClassVar[tuple[str, ...]] = ()
    needs: ClassVar[str]
    directions: ClassVar[tuple[str, ...]] = ("AtoB",)
    presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    columns: ClassVar[str]
    held_out: ClassVar[str]
    held_out_brief: ClassVar[str]
    held_out_kind: ClassVar[str]  # ValidationMetrics.kind: "pairs", "cycle"

    @property
    def both_ways(self) -> bool:
        """Its model translates A to B and B to A, so a conversion chooses the direction."""
        return len(self.directions) > 1

    def model_class(self) -> type:
        """Its GANModel subclass (imported now: this loads torch)."""
        module, _, name = self.model.partition(":")
        return getattr(importlib.import_module(module), name)

    @abstractmethod
    def preview_row(self, model: Translating, sample: dict[str, Images]) -> tuple[Images, ...]:
        """The CHW images of one row of the sample strip for one preview ``sample``."""

    @abstractmethod
    def held_out_pairs(self, model: Translating, batch: dict[str, Images]) -> Iterator[tuple[Images, Images]]:
        """(output, what it should be), CHW each, for every image of a batch of held-out images."""

    def __repr__(self) -> str:
        return f"<family {self.name}>"
