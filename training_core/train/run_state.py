"""What a checkpoint holds, in one dict: everything a run needs to continue bit-exactly.

The model's nets, optimizers and extras, the schedules, where the data stream stands, and every
random generator. The settings live in model.json alone (the generator file's copy is derived from
them).
"""

from __future__ import annotations

from ..models.base import GANModel
from . import rng
from .schedule import Plateau


def capture(iteration: int, data_state: dict, model_state: dict, schedulers: dict, plateau: Plateau | None) -> dict:
    return {
        "iteration": iteration,
        "data_state": data_state,
        "model": model_state,
        "schedulers": {name: scheduler.state_dict() for name, scheduler in schedulers.items()},
        **({"plateau": plateau.state_dict()} if plateau is not None else {}),
        "rng": rng.capture(),
    }


def restore(state: dict, model: GANModel, schedulers: dict, plateau: Plateau | None) -> tuple[int, dict]:
    """Put a checkpoint's ``state`` back; returns its iteration and where the data stream stood."""
    model.load_state_dict(state["model"])
    for name, scheduler in schedulers.items():
        scheduler.load_state_dict(state["schedulers"][name])
    if plateau is not None and "plateau" in state:  # absent when the policy was changed on resume
        plateau.load_state_dict(state["plateau"])
    rng.restore(state["rng"])
    data = state["data_state"]
    return int(state["iteration"]), {"epoch": int(data["epoch"]), "position": int(data["position"])}
