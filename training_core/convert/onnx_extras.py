"""Whether ONNX export can run here, asked without importing PyTorch (the app asks while starting)."""

from __future__ import annotations

import importlib.util
import shlex
import sys
from pathlib import Path


def missing_extras() -> str:
    """ "" when ONNX export can run; otherwise the command that installs what it needs, for this install.

    The command names this Python (``python -m pip``): a bare ``pip`` is often another
    environment's, and would install beside GAN Studio rather than into it.
    """
    if all(importlib.util.find_spec(name) for name in ("onnx", "onnxscript")):
        return ""
    pip = f"{shlex.quote(sys.executable)} -m pip install"
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "training_core").is_dir():
        return f'ONNX export needs optional packages: in {checkout}, run {pip} ".[onnx]"'
    return f"ONNX export needs optional packages: {pip} 'gan-studio[onnx]'"
