"""Model families: one object per family says what it is and what it needs; everyone else asks it.

Nothing outside this package compares a family's name. A new family is one file here plus its model
class; the file must load without torch (the app, the settings and ``gan-studio-models`` read it at
start-up), so it names its model class as text, imported only when a model is built.

What a family file provides: a subclass of ``Family`` (``family.py``) and ``FAMILY``, its one
instance, with

- ``name``: its key in model.json, in ``--family`` and in a setting's ``families``;
  ``title``: its name in sentences ("CycleGAN"); ``label``: the app's family choice
  ("CycleGAN (unpaired)"); ``about``: one line on when to pick it (the choice's tooltip)
- ``config``: its ``ModelConfig`` subclass (``config.py``; its ``family`` is ``name``); settings of
  its own are entries of ``options.SETTINGS`` with ``families=(name,)``
- ``model``: "module:Class" of its ``models.base.GANModel`` subclass
- ``data``: ``PAIRED`` (the run trains on (A, B) pairs) or ``UNPAIRED`` (on two domains), which
  decides the data plan and the dataset; ``layouts``: the dataset layouts it trains on;
  ``usual_for``: the layouts it is the first choice for; ``needs``: what its data must be, said
  when a dataset of another layout is refused
- ``directions``: the generators its weights file holds, so what a conversion or an export may ask
  ("AtoB"; "AtoB" and "BtoA" for a model that translates both ways)
- ``presets``: its model settings under each preset of ``presets.PRESETS`` (none: the config's own)
- ``columns``: the sample strip's columns in words; ``held_out``: what its held-out scores compare,
  in words, with ``{count}``; ``held_out_brief``: the same in two or three words (the CLI's log)
- ``preview_row(model, sample)``: one row of the sample strip, and ``held_out_pairs(model, batch)``:
  (output, what it should be) for each image of a batch of held-out images. A sample or batch is
  a dict of the model's domains, "A" and/or "B" (as in training: the data's direction applied),
  each a CHW image (a sample) or an NCHW batch; paired data gives both, unpaired data one domain.
  These are the family's only code that touches tensors, through the model's ``translate`` alone.

and its module added to the imports and to ``FAMILIES`` below (in that order the app and the CLI
list them).
"""

from __future__ import annotations

from ..errors import ConfigError
from . import cut, cyclegan, pix2pix
from .family import PAIRED, UNPAIRED, Family

__all__ = ["FAMILIES", "NAMES", "PAIRED", "UNPAIRED", "Family", "families_for_layout", "family", "family_for_layout"]

FAMILIES: dict[str, Family] = {f.name: f for f in (pix2pix.FAMILY, cyclegan.FAMILY, cut.FAMILY, cut.FAST)}
NAMES = tuple(FAMILIES)


def family(name: str) -> Family:
    """The family called ``name``; a ConfigError naming the known ones for any other."""
    try:
        return FAMILIES[name]
    except (KeyError, TypeError):
        raise ConfigError(f"model family {name!r} is not known: choose one of {', '.join(NAMES)}") from None


def families_for_layout(layout: str) -> tuple[str, ...]:
    """The families a dataset layout can train, the usual one first."""
    fits = [f.name for f in FAMILIES.values() if layout in f.layouts]
    return tuple(sorted(fits, key=lambda name: layout not in FAMILIES[name].usual_for))


def family_for_layout(layout: str) -> str:
    """The usual family for a dataset layout (pix2pix for pairs, CycleGAN for two unpaired folders)."""
    fits = families_for_layout(layout)
    if not fits:
        raise ConfigError(f"no model family trains on {layout} data")
    return fits[0]
