"""The founding description's choices, as options that work as completely as the papers' defaults."""

import copy

import pytest
import torch
from fresh_random import scramble_global_random_state
from tiny import TINY_CYCLEGAN, TINY_PIX2PIX, paired_report, unpaired_report

from training_core.config import CycleGANConfig, DataConfig, Pix2PixConfig
from training_core.errors import ConfigError
from training_core.models.networks import count_parameters, define_D
from training_core.models.registry import build_model
from training_core.store import ModelLibrary
from training_core.train.control import TrainingControl
from training_core.train.events import StepMetrics
from training_core.train.trainer import Trainer


@pytest.mark.parametrize("optimizer_G,optimizer_D", [("rmsprop", "adam"), ("sgd", "rmsprop"), ("adam", "sgd")])
def test_each_optimizer_trains_and_resumes_bit_exactly(tmp_path, optimizer_G, optimizer_D):
    report = paired_report(tmp_path / "data")
    library = ModelLibrary()
    settings = dict(TINY_PIX2PIX, iterations=8, optimizer_G=optimizer_G, optimizer_D=optimizer_D, lr=1e-3)
    straight = Trainer.create(report, "straight", overrides=settings, library=library, device="cpu")  # bit-exact
    straight.run()
    assert type(straight.model.optimizers["G"]).__name__.lower() == optimizer_G.replace("rmsprop", "rmsprop")
    control = TrainingControl()
    Trainer.create(
        report,
        "halves",
        overrides=settings,
        library=library,
        control=control,
        device="cpu",
        on_event=lambda e: control.stop() if isinstance(e, StepMetrics) and e.iteration == 4 else None,
    ).run()
    scramble_global_random_state()  # as in a new process: only the checkpoint can give the state back
    second = Trainer.reopen("halves", library=library, device="cpu")
    second.run()
    for name in ("G", "D"):
        a, b = straight.model.nets[name].state_dict(), second.model.nets[name].state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert type(second.model.optimizers["D"]).__name__.lower() == optimizer_D


def test_unknown_optimizer_is_refused():
    with pytest.raises(ConfigError, match="optimizer_G 'lbfgs' is not valid: choose one of adam, rmsprop, sgd"):
        Pix2PixConfig(optimizer_G="lbfgs").validate()


@pytest.mark.parametrize("size", [(32, 32), (64, 48), (100, 260)])
def test_image_discriminator_gives_one_score_per_image_at_any_size(size):
    net = define_D(6, 8, "image", n_layers_D=3, norm="instance")
    assert net(torch.randn(3, 6, *size)).shape == (3, 1)
    assert count_parameters(net) > 0


@pytest.mark.parametrize("family,tiny", [("pix2pix", TINY_PIX2PIX), ("cyclegan", TINY_CYCLEGAN)])
def test_image_discriminator_trains_in_both_families(tmp_path, family, tiny):
    report = (paired_report if family == "pix2pix" else unpaired_report)(tmp_path / "data")
    trainer = Trainer.create(
        report, "img", family=family, overrides=dict(tiny, netD="image", iterations=4), library=ModelLibrary()
    )
    assert trainer.run().completed
    assert type(trainer.model.nets["D" if family == "pix2pix" else "D_A"]).__name__ == "ImageDiscriminator"


def test_image_discriminator_size_check():
    with pytest.raises(ConfigError, match="too small for a 3-layer image discriminator; use at least 32"):
        DataConfig(preprocess="crop", crop_size=16).check_networks(CycleGANConfig(netD="image"))


@pytest.mark.slow  # learns to a quality: the full run (CI) has it, the fast loop not
def test_landscape_demo_is_unpaired_and_a_short_cyclegan_run_moves_red_towards_blue(tmp_path):
    from PIL import Image

    from training_core.convert.model_file import translator_for_model
    from training_core.data.demo_landscapes import make_landscape_demo, mean_hue_blueness
    from training_core.data.discover import discover

    folder = make_landscape_demo(tmp_path / "landscapes", count=12, size=64)
    report = discover(folder)
    assert report.layout == "unpaired"
    reds = report.splits["train"].domain_a
    before = sum(mean_hue_blueness(Image.open(p)) for p in reds) / len(reds)
    trainer = Trainer.create(
        report,
        "red to blue",
        overrides=dict(
            netG="resnet_2blocks",
            ngf=8,
            ndf=8,
            size=64,
            iterations=150,
            sample_every=1000,
            lr=1e-3,
            checkpoint_every=1000,
        ),
        library=ModelLibrary(),
    )
    assert trainer.run().completed
    translator = translator_for_model(ModelLibrary().get("red to blue"), "AtoB")
    after = sum(mean_hue_blueness(translator.translate(Image.open(p).convert("RGB"))) for p in reds) / len(reds)
    # Red landscapes score about -0.38 and blue ones +0.34; the converted reds must move clearly blue-wards.
    assert after > before + 0.25, (before, after)


def test_adam_and_sgd_use_the_fused_kernel_and_give_the_default_kernels_update():
    for kind in ("adam", "sgd"):
        fast = build_model(Pix2PixConfig(netG="unet_32", ngf=8, ndf=8, optimizer_G=kind, momentum=0.9))
        plain = build_model(Pix2PixConfig(netG="unet_32", ngf=8, ndf=8, optimizer_G=kind, momentum=0.9))
        assert fast.optimizers["G"].param_groups[0]["fused"] is True
        plain.optimizers["G"] = type(plain.optimizers["G"])(
            plain.netG.parameters(),
            **{k: v for k, v in plain.optimizers["G"].defaults.items() if k in ("lr", "betas", "momentum")},
        )
        batch = {"A": torch.rand(1, 3, 32, 32) * 2 - 1, "B": torch.rand(1, 3, 32, 32) * 2 - 1}
        for model in (fast, plain):
            for _ in range(3):
                model.set_input(batch)
                model.step()
        for name, weight in fast.netG.state_dict().items():
            torch.testing.assert_close(weight, plain.netG.state_dict()[name], rtol=1e-4, atol=1e-5, msg=name)


def test_a_checkpoint_from_the_unfused_default_optimizer_resumes_on_the_fused_kernel():
    """Checkpoints written before the fused kernel (or by other code) keep training at full speed."""
    batch = {"A": torch.rand(1, 3, 32, 32) * 2 - 1, "B": torch.rand(1, 3, 32, 32) * 2 - 1}
    old = build_model(Pix2PixConfig(netG="unet_32", ngf=8, ndf=8))
    for name, opt in old.optimizers.items():
        old.optimizers[name] = torch.optim.Adam(opt.param_groups[0]["params"], lr=2e-4, betas=(0.5, 0.999))
    old.set_input(batch)
    old.step()
    state = copy.deepcopy(old.state_dict())  # as if read back from a checkpoint file
    assert state["optimizers"]["G"]["param_groups"][0]["fused"] is None

    resumed = build_model(Pix2PixConfig(netG="unet_32", ngf=8, ndf=8))
    resumed.load_state_dict(state)
    group = resumed.optimizers["G"].param_groups[0]
    assert group["fused"] is True
    assert state["optimizers"]["G"]["param_groups"][0]["fused"] is None  # the caller's state is untouched
    resumed.set_input(batch)
    old.set_input(batch)
    resumed.step()
    old.step()
    first = next(iter(resumed.netG.state_dict()))
    torch.testing.assert_close(resumed.netG.state_dict()[first], old.netG.state_dict()[first], rtol=1e-4, atol=1e-5)
    step = resumed.optimizers["G"].state[group["params"][0]]["step"]
    assert float(step) == 2
