import json
import threading

import pytest
import torch
from fresh_random import scramble_global_random_state
from tiny import TINY_CYCLEGAN, TINY_PIX2PIX, paired_report, unpaired_report

from training_core.models.cyclegan import CycleGANModel
from training_core.store import ModelLibrary
from training_core.train.checkpoint import list_checkpoints
from training_core.train.control import TrainingControl
from training_core.train.events import (
    CheckpointSaved,
    Failed,
    Finished,
    Paused,
    Resumed,
    SampleImages,
    Started,
    StepMetrics,
    ValidationMetrics,
)
from training_core.train.trainer import Trainer


def _weights(trainer):
    return {f"{n}.{k}": v.clone() for n, net in trainer.model.nets.items() for k, v in net.state_dict().items()}


def _stop_at(control, iteration, action="stop"):
    def listener(event):
        if isinstance(event, StepMetrics) and event.iteration == iteration:
            getattr(control, action)()

    return listener


@pytest.mark.parametrize(
    "family,overrides,make_report",
    [
        ("pix2pix", TINY_PIX2PIX, paired_report),
        ("cyclegan", TINY_CYCLEGAN, unpaired_report),
    ],
)
def test_resumed_run_is_bit_identical_to_an_uninterrupted_one(tmp_path, family, overrides, make_report):
    _check_resume(tmp_path, family, overrides, make_report, "cpu")  # bit-exact: pinned to the CPU


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize(
    "family,overrides,make_report",
    [
        ("pix2pix", TINY_PIX2PIX, paired_report),
        ("cyclegan", TINY_CYCLEGAN, unpaired_report),
    ],
)
def test_a_resumed_cuda_run_matches_an_uninterrupted_one_within_float_tolerance(
    tmp_path, family, overrides, make_report
):
    _check_resume(tmp_path, family, overrides, make_report, "cuda")  # cuDNN's kernels are not deterministic


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize(
    "family,overrides,make_report",
    [
        ("pix2pix", TINY_PIX2PIX, paired_report),
        ("cyclegan", TINY_CYCLEGAN, unpaired_report),  # reflection padding: its fixed-order gradient
    ],
)
def test_a_resumed_deterministic_cuda_run_is_bit_identical(tmp_path, family, overrides, make_report):
    _check_resume(tmp_path, family, dict(overrides, deterministic=True), make_report, "cuda")
    assert not torch.are_deterministic_algorithms_enabled()  # the next run chooses again


def test_deterministic_kernels_are_a_cuda_choice_that_ends_with_its_run(tmp_path):
    report = paired_report(tmp_path / "data")
    seen = []
    trainer = Trainer.create(
        report,
        "det",
        overrides=dict(TINY_PIX2PIX, iterations=2, deterministic=True),
        library=ModelLibrary(),
        device="cpu",
        on_event=lambda e: seen.append(torch.are_deterministic_algorithms_enabled()),
    )
    torch.use_deterministic_algorithms(True)  # as a last deterministic CUDA run in the app left it
    try:
        assert isinstance(trainer.run(), Finished)
        assert seen and not any(seen)  # the CPU is bit-exact already: no restrictions on its kernels
    finally:
        torch.use_deterministic_algorithms(False)


@pytest.mark.parametrize(
    "family,overrides,make_report",
    [
        ("pix2pix", TINY_PIX2PIX, paired_report),  # watches the held-out L1
        ("cyclegan", TINY_CYCLEGAN, unpaired_report),  # watches the training loss: its window is saved too
    ],
)
def test_a_resumed_plateau_run_is_bit_identical_and_keeps_the_policys_memory(tmp_path, family, overrides, make_report):
    settings = dict(overrides, lr_policy="plateau", plateau_patience=1, plateau_factor=0.5, sample_every=2)
    straight, second = _check_resume(tmp_path, family, settings, make_report, "cpu")
    assert straight.plateau.state_dict() == second.plateau.state_dict()
    assert straight.plateau.best < float("inf")


def _check_resume(tmp_path, family, overrides, make_report, device):
    report = make_report(tmp_path / "data")
    library = ModelLibrary(tmp_path / "models")
    # 10 iterations over 6 to 12 images: the stop falls mid-epoch, and epochs roll over after it.
    settings = dict(overrides, iterations=10, batch_size=2)
    straight = Trainer.create(report, "straight", family=family, overrides=settings, library=library, device=device)
    assert isinstance(straight.run(), Finished)

    control = TrainingControl()
    first = Trainer.create(
        report,
        "halves",
        family=family,
        overrides=settings,
        library=library,
        control=control,
        on_event=_stop_at(control, 5),
        device=device,
    )
    result = first.run()
    assert isinstance(result, Finished) and not result.completed and result.iteration == 5
    assert library.get("halves").state == "paused"
    scramble_global_random_state()  # as in a new process: only the checkpoint can give the state back
    second = Trainer.reopen("halves", library=library, device=device)  # a new trainer: nothing shared in memory
    assert isinstance(second.run(), Finished)

    a, b = _weights(straight), _weights(second)
    assert a.keys() == b.keys()
    if device == "cpu" or overrides.get("deterministic"):
        assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])]
    else:
        # A bias just before instance norm has no effect (the norm removes it) and a zero gradient, up
        # to float noise, which Adam scales to full-size steps: those follow cuDNN's nondeterminism.
        # What counts is every other weight, and what the generators make of an image.
        dead = {k for k in a if k.endswith(".bias") and family == "cyclegan"}
        far = [
            k
            for k in a
            if k not in dead and a[k].is_floating_point() and not torch.allclose(a[k], b[k], rtol=1e-3, atol=1e-3)
        ]
        assert not far, far
        image = torch.rand(1, 3, 32, 32, device=device) * 2 - 1  # outputs in [-1, 1]: 1% of a grey level
        assert torch.allclose(straight.model.translate(image), second.model.translate(image), atol=1e-2)
    assert library.get("halves").record.iterations == 10
    return straight, second


def test_pause_takes_effect_within_one_iteration_checkpoints_and_resumes(tmp_path):
    report = paired_report(tmp_path / "data")
    control = TrainingControl()
    events = []

    def listener(event):
        events.append(event)
        if isinstance(event, StepMetrics) and event.iteration == 3:
            control.pause()
        if isinstance(event, Paused):
            assert library.get("p").state == "paused"
            threading.Timer(0.2, control.resume).start()

    library = ModelLibrary(tmp_path / "models")
    trainer = Trainer.create(
        report, "p", overrides=dict(TINY_PIX2PIX, iterations=6), library=library, control=control, on_event=listener
    )
    result = trainer.run()
    assert isinstance(result, Finished) and result.completed and result.iteration == 6
    kinds = [type(e) for e in events]
    paused = kinds.index(Paused)
    assert events[paused].iteration == 3  # no iteration ran between the request and the pause
    assert kinds[paused - 1] is CheckpointSaved and events[paused - 1].reason == "pause"
    assert kinds[paused + 1] is Resumed
    assert library.get("p").state == "finished"


def test_stop_while_paused_ends_the_run_without_losing_anything(tmp_path):
    report = paired_report(tmp_path / "data")
    control = TrainingControl()
    library = ModelLibrary(tmp_path / "models")

    def listener(event):
        if isinstance(event, StepMetrics) and event.iteration == 2:
            control.pause()
        if isinstance(event, Paused):
            control.stop()

    result = Trainer.create(
        report, "s", overrides=dict(TINY_PIX2PIX, iterations=6), library=library, control=control, on_event=listener
    ).run()
    assert isinstance(result, Finished) and not result.completed and result.iteration == 2
    assert [p.name for p in list_checkpoints(library.get("s").run_dir)] == ["iter_000000002.pt"]
    resumed = Trainer.reopen("s", library=library).run()
    assert resumed.completed and resumed.iteration == 6


def test_events_samples_validation_and_metrics_log(tmp_path):
    report = paired_report(tmp_path / "data")
    library = ModelLibrary(tmp_path / "models")
    events = []
    trainer = Trainer.create(
        report, "m", overrides=dict(TINY_PIX2PIX, iterations=8), library=library, on_event=events.append
    )
    trainer.run()
    started = events[0]
    assert isinstance(started, Started) and started.total_iterations == 8 and not started.resumed
    steps = [e for e in events if isinstance(e, StepMetrics)]
    assert [s.iteration for s in steps] == list(range(1, 9))
    # The quick preset's pix2pix adds the structural loss to the papers' four.
    assert set(steps[0].losses) == {"G_GAN", "G_L1", "G_SSIM", "D_real", "D_fake"}
    assert steps[-1].lr == pytest.approx(0.0, abs=1e-12)  # linear decay reaches zero at the end
    assert steps[0].lr == pytest.approx(trainer.model_cfg.lr)  # the preset's rate, constant in the first half
    samples = [e for e in events if isinstance(e, SampleImages)]
    assert [s.iteration for s in samples] == [4, 8]
    assert samples[0].strip.size == (3 * 32, 2 * 32)  # input | output | target, two preview rows
    assert samples[0].path.exists()
    vals = [e for e in events if isinstance(e, ValidationMetrics)]
    assert [v.iteration for v in vals] == [4, 8] and vals[0].count == 2
    assert 0 < vals[-1].l1 < 2 and 0 < vals[-1].ssim <= 1 and vals[-1].psnr > 0
    lines = [json.loads(x) for x in (trainer.entry.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [x["iteration"] for x in lines if "val" in x] == [4, 8]
    assert any("losses" in x and x["iteration"] == 8 for x in lines)
    record = library.get("m").record
    assert record.metrics["val"]["l1"] == pytest.approx(vals[-1].l1)
    assert (trainer.entry.path / "generator.safetensors").exists() and trainer.entry.sample_path.exists()
    # Batch norm: the translator's default statistics were chosen on the held-out pairs.
    inference = record.inference
    assert inference["norm"] == min(inference["val_l1"], key=inference["val_l1"].get)
    assert set(inference["val_l1"]) == {"image", "running"}


def test_damaged_latest_checkpoint_falls_back_to_the_previous_one(tmp_path):
    report = paired_report(tmp_path / "data")
    library = ModelLibrary(tmp_path / "models")
    settings = dict(TINY_PIX2PIX, iterations=12, checkpoint_every=3)
    control = TrainingControl()
    Trainer.create(
        report, "d", overrides=settings, library=library, control=control, on_event=_stop_at(control, 7)
    ).run()
    run_dir = library.get("d").run_dir
    newest = list_checkpoints(run_dir)
    assert [p.name for p in newest] == ["iter_000000007.pt", "iter_000000006.pt", "iter_000000003.pt"]
    newest[0].write_bytes(newest[0].read_bytes()[:1000])  # torn write
    events = []
    result = Trainer.reopen("d", library=library, on_event=events.append).run()
    started = events[0]
    assert started.iteration == 6 and any("iter_000000007.pt cannot be read" in n for n in started.notes)
    assert result.completed and result.iteration == 12


def test_no_usable_checkpoint_is_a_clear_failure(tmp_path):
    report = paired_report(tmp_path / "data")
    library = ModelLibrary(tmp_path / "models")
    control = TrainingControl()
    Trainer.create(
        report,
        "x",
        overrides=dict(TINY_PIX2PIX, iterations=5),
        library=library,
        control=control,
        on_event=_stop_at(control, 2),
    ).run()
    for path in list_checkpoints(library.get("x").run_dir):
        path.write_text("not a checkpoint")
    result = Trainer.reopen("x", library=library).run()
    assert isinstance(result, Failed) and "no usable checkpoint" in result.message
    assert result.restart and "--restart x" in result.message  # the one way on, offered, never taken unasked
    assert library.get("x").state == "paused"  # refused before anything changed (test_restart_guard.py)


# Loader worker processes (used on machines with many cores) must not lose the file and the reason.
@pytest.mark.parametrize("workers", [0, 2])
def test_a_file_that_breaks_mid_training_saves_and_explains(tmp_path, workers):
    report = paired_report(tmp_path / "data", train=12, val=0)
    library = ModelLibrary(tmp_path / "models")
    trainer = Trainer.create(
        report, "broken", library=library, overrides=dict(TINY_PIX2PIX, iterations=40, num_workers=workers)
    )
    for path in (tmp_path / "data" / "train").iterdir():
        path.write_bytes(b"")  # every training file is emptied after the run was planned
    result = trainer.run()
    assert isinstance(result, Failed)
    assert "Cannot read the training data" in result.message and "not an image" in result.message
    assert "file is empty" in result.message and str(tmp_path / "data" / "train") in result.message
    assert list_checkpoints(trainer.entry.run_dir)  # what was learned is saved


def test_a_refused_resume_changes_nothing(tmp_path):
    """Two resumes at once: the one that finds the run taken must not rewrite its length."""
    from training_core.runlock import RunLock

    report = paired_report(tmp_path / "data")
    library = ModelLibrary(tmp_path / "models")
    Trainer.create(report, "twice", overrides=dict(TINY_PIX2PIX, iterations=2), library=library).run()
    first = Trainer.reopen("twice", library=library, iterations=6)
    second = Trainer.reopen("twice", library=library, iterations=5)
    with RunLock(first.entry.run_dir):  # the first holds the run
        assert isinstance(second.run(), Failed)
    assert library.get("twice").record.total_iterations == 2  # unchanged by the refused one
    assert first.run().completed
    entry = library.get("twice")
    assert entry.record.iterations == entry.record.total_iterations == 6


def test_a_second_process_cannot_train_the_same_model(tmp_path):
    from training_core.runlock import RunLock

    report = paired_report(tmp_path / "data")
    library = ModelLibrary(tmp_path / "models")
    trainer = Trainer.create(report, "busy", overrides=dict(TINY_PIX2PIX, iterations=2), library=library)
    with RunLock(trainer.entry.run_dir):
        result = trainer.run()
        assert isinstance(result, Failed) and "another process" in result.message
    assert trainer.run().completed


def test_the_library_record_follows_the_run_through_its_events(tmp_path):
    """model.json is written by a listener of the run's events, as the app listens: each state in turn."""
    report = paired_report(tmp_path / "data")
    library = ModelLibrary(tmp_path / "models")
    control = TrainingControl()
    seen = []

    def watch(event):
        seen.append((type(event).__name__, library.get("r").state))
        if isinstance(event, StepMetrics) and event.iteration == 2:
            control.pause()
        if type(event).__name__ == "Paused":
            control.resume()

    trainer = Trainer.create(
        report,
        "r",
        overrides=dict(TINY_PIX2PIX, iterations=4, sample_every=2),
        library=library,
        control=control,
        on_event=watch,
        device="cpu",
    )
    assert trainer.run().completed
    states = dict(seen)  # the state when each kind of event last reached the app
    assert states["Started"] == "running" and states["Paused"] == "paused" and states["Resumed"] == "running"
    assert states["Finished"] == "finished"
    record = library.get("r").record
    assert record.iterations == record.progress == 4 and record.metrics["val"]["l1"] > 0
    assert record.inference["norm"] in ("image", "running")  # batch norm: chosen on the held-out pairs


def test_samples_come_early_then_at_the_presets_cadence(tmp_path):
    report = paired_report(tmp_path / "data")
    library = ModelLibrary(tmp_path / "models")
    samples = []
    trainer = Trainer.create(
        report,
        "early",
        overrides=dict(TINY_PIX2PIX, iterations=60, sample_every=40),
        library=library,
        device="cpu",
        on_event=lambda e: samples.append(e.iteration) if type(e).__name__ == "SampleImages" else None,
    )
    assert trainer.run().completed
    assert samples == [10, 25, 40, 60]  # 50 is past the first regular sample at 40


@pytest.mark.parametrize(
    "family,overrides,make_report",
    [
        ("pix2pix", TINY_PIX2PIX, lambda folder: paired_report(folder, val=5)),
        ("cyclegan", TINY_CYCLEGAN, lambda folder: unpaired_report(folder, count=30)),  # 3 held out a side
    ],
)
def test_held_out_images_in_batches_score_as_one_at_a_time(tmp_path, family, overrides, make_report):
    trainer = Trainer.create(
        make_report(tmp_path / "data"),
        "batches",
        family=family,
        overrides=dict(overrides, iterations=2),
        library=ModelLibrary(),
        device="cpu",
    )
    assert isinstance(trainer.run(), Finished)
    passes = {1: [], 2: []}
    real = trainer.model.translate
    outputs = {}
    for size in passes:  # 1: the CPU's; 2: as on a GPU (16 there)
        seen = passes[size]
        trainer.model.translate = lambda images, *direction, seen=seen: (
            seen.append(len(images)),
            real(images, *direction),
        )[1]
        outputs[size] = list(trainer.fixed.outputs(trainer.model, size))
    assert len(outputs[1]) == len(outputs[2]) >= 5
    for (a, target_a), (b, target_b) in zip(outputs[1], outputs[2]):
        assert torch.equal(target_a, target_b) and torch.allclose(a, b, atol=1e-5)
    assert set(passes[1]) == {1} and max(passes[2]) == 2 and len(passes[2]) < len(passes[1])


def test_cyclegan_scores_the_round_trip_of_held_out_images_of_each_domain(tmp_path):
    report = unpaired_report(tmp_path / "data", count=12)  # enough to hold a few out of each domain
    library = ModelLibrary()
    events = []
    trainer = Trainer.create(
        report, "cycle", overrides=dict(TINY_CYCLEGAN, iterations=4), library=library, on_event=events.append
    )
    plan = trainer.plan
    assert plan.val_source == "held out" and len(plan.val_a) == len(plan.val_b) == 1
    assert not set(plan.val_a) & set(plan.train_a) and not set(plan.val_b) & set(plan.train_b)
    assert isinstance(trainer.run(), Finished)
    scores = [e for e in events if isinstance(e, ValidationMetrics)]
    assert scores and all(s.kind == "cycle" and s.count == 2 for s in scores)
    assert all(0 <= s.l1 <= 2 and s.psnr > 0 and -1 <= s.ssim <= 1 for s in scores)
    logged = [json.loads(line) for line in (library.get("cycle").run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["val"]["l1"] for r in logged if "val" in r] == [s.l1 for s in scores]
    assert all(r["val"]["checkerboard"] > 0 for r in logged if "val" in r)
    assert library.get("cycle").record.dataset["val"] == 2


class _Shift(torch.nn.Module):
    """A generator that adds a constant: a round trip through two of them is a known transform."""

    def __init__(self, amount: float):
        super().__init__()
        self.amount = amount

    def forward(self, x):
        return x + self.amount


def test_cyclegan_held_out_scores_are_those_of_the_round_trip_by_hand(tmp_path, monkeypatch):
    """G_A adds 0.05 and G_B 0.15: there and back, each held-out image of either domain comes back
    0.2 brighter, so L1 = 0.2 and PSNR = 10 log10(1 / (0.2 / 2)^2) = 20 dB exactly, whatever the
    images. Scoring the image itself (a perfect 0 and 100 dB), a one-way trip (0.05 or 0.15) or one
    generator twice (0.1 or 0.3) reads otherwise."""
    report = unpaired_report(tmp_path / "data", count=12)
    events = []
    trainer = Trainer.create(
        report,
        "shifts",
        overrides=dict(TINY_CYCLEGAN, iterations=2, sample_every=2),
        library=ModelLibrary(),
        on_event=events.append,
    )
    shifts = {"G_A": _Shift(0.05), "G_B": _Shift(0.15)}
    # What previews and scores translate with (training itself goes on with the real networks).
    monkeypatch.setattr(CycleGANModel, "translating", lambda model, name: shifts[name])
    assert isinstance(trainer.run(), Finished)
    scores = [e for e in events if isinstance(e, ValidationMetrics)]
    assert scores and all(s.kind == "cycle" and s.count == 2 for s in scores)
    for s in scores:
        assert s.l1 == pytest.approx(0.2, abs=1e-5) and s.psnr == pytest.approx(20.0, abs=1e-3)


@pytest.mark.parametrize(
    "family,overrides,make_report",
    [("pix2pix", TINY_PIX2PIX, paired_report), ("cyclegan", TINY_CYCLEGAN, unpaired_report)],
)
def test_a_resumed_run_with_an_averaged_generator_is_bit_identical(tmp_path, family, overrides, make_report):
    straight, second = _check_resume(tmp_path, family, dict(overrides, ema_decay=0.9), make_report, "cpu")
    for name, average in straight.model.averaged.items():
        theirs = second.model.averaged[name].state_dict()
        assert all(torch.equal(v, theirs[k]) for k, v in average.state_dict().items()), name


def test_the_averaged_generator_is_what_translates_and_what_is_saved(tmp_path):
    from safetensors.torch import load_file

    report = paired_report(tmp_path / "data")
    library = ModelLibrary()
    trainer = Trainer.create(report, "ema", overrides=dict(TINY_PIX2PIX, iterations=6, ema_decay=0.5), library=library)
    assert isinstance(trainer.run(), Finished)
    model = trainer.model
    live, average = model.plain("G").state_dict(), model.averaged["G"].state_dict()
    moved = [k for k in live if live[k].is_floating_point() and not torch.equal(live[k], average[k])]
    assert moved  # the average lags behind the latest weights
    assert model.generator("AtoB") is model.averaged["G"]
    saved = load_file(library.get("ema").weights_path)
    assert all(torch.equal(saved[f"AtoB.{k}"], v) for k, v in average.items())
    # Without averaging (the papers' way) the latest weights translate.
    plain = Trainer.create(report, "plain", overrides=dict(TINY_PIX2PIX, iterations=1), library=library)
    plain.run()
    assert not plain.model.averaged and plain.model.generator("AtoB") is plain.model.plain("G")


def test_a_resumed_run_with_a_spectrally_normalised_critic_is_bit_identical(tmp_path):
    _check_resume(tmp_path, "pix2pix", dict(TINY_PIX2PIX, spectral_norm=True), paired_report, "cpu")


def test_a_resumed_run_with_multi_scale_critics_and_feature_matching_is_bit_identical(tmp_path):
    critic = dict(netD="n_layers", n_layers_D=1, num_D=2)
    _check_resume(tmp_path / "p", "pix2pix", dict(TINY_PIX2PIX, **critic, lambda_feat=10), paired_report, "cpu")
    _check_resume(tmp_path / "c", "cyclegan", dict(TINY_CYCLEGAN, **critic), unpaired_report, "cpu")


def test_the_average_warms_up_instead_of_holding_on_to_the_random_start():
    from tiny import train_step

    from training_core.config import Pix2PixConfig
    from training_core.models.registry import build_model

    model = build_model(Pix2PixConfig(netG="unet_32", ngf=8, ndf=8, ema_decay=0.999))
    start = {k: v.clone() for k, v in model.plain("G").state_dict().items()}
    model.set_input({"A": torch.rand(1, 3, 32, 32) * 2 - 1, "B": torch.rand(1, 3, 32, 32) * 2 - 1})
    for _ in range(3):
        train_step(model)
    live, average = model.plain("G").state_dict(), model.averaged["G"].state_dict()
    key = "model.model.0.weight"  # the first convolution
    travelled, followed = (live[key] - start[key]).norm(), (average[key] - start[key]).norm()
    # A fixed 0.999 would have followed 0.3% of the way; the warm-up's first decays are 0.18 to 0.31.
    assert followed > 0.4 * travelled
    assert model.average_updates == 3 and model.state_dict()["average_updates"] == 3


def test_a_resumed_run_with_augmented_discriminators_is_bit_identical(tmp_path):
    settings = dict(TINY_CYCLEGAN, diff_augment="color,translation,cutout")
    _check_resume(tmp_path, "cyclegan", settings, unpaired_report, "cpu")
