import pytest
import torch


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Keep the user's data dir untouched and torch's random state reproducible per test."""
    monkeypatch.setenv("GAN_STUDIO_HOME", str(tmp_path / "gan-studio-home"))
    torch.manual_seed(0)
