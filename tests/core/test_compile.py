"""torch.compile as a training setting: the same training, the same checkpoints."""

import logging

import pytest
import torch
from tiny import TINY_PIX2PIX, paired_report

from training_core.store import ModelLibrary
from training_core.train.events import Finished
from training_core.train.trainer import Trainer


@pytest.mark.slow  # compiling takes about a minute on 2 CPU cores
def test_a_compiled_run_trains_like_an_eager_one_and_saves_the_same_checkpoint(tmp_path, caplog):
    report = paired_report(tmp_path / "data")
    library = ModelLibrary(tmp_path / "models")
    settings = dict(TINY_PIX2PIX, iterations=3, sample_every=3, precision="fp32")
    eager = Trainer.create(report, "eager", overrides=settings, library=library, device="cpu")
    assert isinstance(eager.run(), Finished)
    with caplog.at_level(logging.INFO, logger="training_core"):
        compiled = Trainer.create(
            report, "compiled", overrides=dict(settings, compile=True), library=library, device="cpu"
        )
        assert isinstance(compiled.run(), Finished)
    assert compiled.model.compiled and not eager.model.compiled
    assert any("compiled the networks in" in r.getMessage() for r in caplog.records)
    # Checkpoints keep the networks' own keys: a compiled run resumes eagerly and the other way round.
    a, b = eager.model.state_dict()["nets"], compiled.model.state_dict()["nets"]
    for name in a:
        assert a[name].keys() == b[name].keys()
        for key, value in a[name].items():
            if value.is_floating_point():  # the same arithmetic, fused differently: float noise apart
                assert torch.allclose(value, b[name][key], atol=1e-4), (name, key)
    resumed = Trainer.reopen("compiled", library=library, iterations=4, device="cpu")
    assert isinstance(resumed.run(), Finished) and library.get("compiled").record.iterations == 4
