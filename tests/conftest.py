import os
import sys
from pathlib import Path

import pytest

# GUI tests run without a display; set before any Qt import.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).parent / "core"))  # shared helpers: tiny.py, synthetic.py


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Keep the user's models and settings untouched and torch's random state reproducible per test."""
    monkeypatch.setenv("GAN_STUDIO_HOME", str(tmp_path / "gan-studio-home"))
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(0)
