"""Whether ONNX export can run here, asked without importing PyTorch (the app asks while starting)."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def missing_extras() -> str:
    """ "" when ONNX export can run; otherwise the command that installs what it needs, for this install."""
    if all(importlib.util.find_spec(name) for name in ("onnx", "onnxscript")):
        return ""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "training_core").is_dir():
        return f'ONNX export needs optional packages: in {checkout}, run pip install ".[onnx]"'
    return "ONNX export needs optional packages: pip install 'gan-studio[onnx]'"
