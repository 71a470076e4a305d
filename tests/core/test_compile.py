"""torch.compile as a training setting: the same training, the same checkpoints."""

import compile_worker
import pytest
import torch
import torch.multiprocessing as mp
from tiny import TINY_PIX2PIX, paired_report

from training_core.store import ModelLibrary
from training_core.train.events import Finished
from training_core.train.trainer import Trainer


@pytest.mark.slow  # compiling takes about a minute on 2 CPU cores
def test_a_compiled_run_trains_like_an_eager_one_and_saves_the_same_checkpoint(tmp_path):
    report = paired_report(tmp_path / "data")
    library = ModelLibrary(tmp_path / "models")
    settings = dict(TINY_PIX2PIX, iterations=3, sample_every=3, precision="fp32")
    eager = Trainer.create(report, "eager", overrides=settings, library=library, device="cpu")
    assert isinstance(eager.run(), Finished)
    out = tmp_path / "compiled.pt"
    mp.spawn(compile_worker.train_compiled, args=(str(report.root), str(tmp_path / "models"), settings, str(out)))
    compiled = torch.load(out, weights_only=True)
    assert compiled["finished"] and compiled["compiled"] and not eager.model.compiled
    assert any("compiled the networks in" in m for m in compiled["messages"])
    # Checkpoints keep the networks' own keys: a compiled run resumes (here compiled again) and reads
    # the same keys an eager run writes.
    a, b = eager.model.state_dict()["nets"], compiled["nets"]
    for name in a:
        assert a[name].keys() == b[name].keys()
        for key, value in a[name].items():
            if value.is_floating_point():  # the same arithmetic, fused differently: float noise apart
                assert torch.allclose(value, b[name][key], atol=1e-4), (name, key)
    assert compiled["resumed_finished"] and compiled["resumed_iterations"] == settings["iterations"] + 1
