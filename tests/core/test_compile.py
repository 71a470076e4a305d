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
    # The same arithmetic, fused differently: float noise apart. Adam turns the noise in a gradient
    # near zero into a full step either way (the structural loss has a few such weights), so a rare
    # weight may differ by the steps taken, no more.
    a, b = eager.model.state_dict()["nets"], compiled["nets"]
    steps = 2 * settings["iterations"] * eager.model_cfg.lr
    for name in a:
        assert a[name].keys() == b[name].keys()
        floats = [k for k, v in a[name].items() if v.is_floating_point()]
        diffs = torch.cat([(a[name][k].float() - b[name][k].float()).abs().flatten() for k in floats])
        assert (diffs > 1e-4).float().mean() < 1e-4 and diffs.max() <= steps * 1.01, (name, diffs.max())
    assert compiled["resumed_finished"] and compiled["resumed_iterations"] == settings["iterations"] + 1
