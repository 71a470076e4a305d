import io

import pytest
import torch
from synthetic import inverted, shapes
from tiny import train_step

from training_core.config import CycleGANConfig, Pix2PixConfig
from training_core.families import family_for_layout
from training_core.models.registry import build_model, model_class

TINY_P2P = dict(netG="unet_32", ngf=8, ndf=8)
TINY_CYCLE = dict(netG="resnet_1blocks", ngf=8, ndf=8, pool_size=4)


def _batch(n=2, seed=0):
    a = shapes(n, seed=seed)
    return {"A": a, "B": inverted(a)}


def test_same_seed_builds_identical_models_without_touching_global_random_state():
    state = torch.random.get_rng_state()
    m1 = build_model(Pix2PixConfig(**TINY_P2P), seed=3)
    m2 = build_model(Pix2PixConfig(**TINY_P2P), seed=3)
    m3 = build_model(Pix2PixConfig(**TINY_P2P), seed=4)
    assert torch.equal(torch.random.get_rng_state(), state)
    w = [next(m.netG.parameters()) for m in (m1, m2, m3)]
    assert torch.equal(w[0], w[1]) and not torch.equal(w[0], w[2])


@pytest.mark.parametrize("gan_mode", ["vanilla", "lsgan", "wgangp"])
def test_pix2pix_step_updates_both_networks(gan_mode):
    model = build_model(Pix2PixConfig(gan_mode=gan_mode, **TINY_P2P))
    g0 = [p.clone() for p in model.netG.parameters()]
    d0 = [p.clone() for p in model.netD.parameters()]
    model.set_input(_batch())
    losses = train_step(model)
    assert list(losses) == list(model.loss_names) and all(isinstance(v, float) for v in losses.values())
    assert any(not torch.equal(a, b) for a, b in zip(g0, model.netG.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d0, model.netD.parameters()))


def test_pix2pix_l1_term_is_weighted_by_lambda():
    batch = _batch()
    m1 = build_model(Pix2PixConfig(lambda_L1=1.0, **TINY_P2P))
    m2 = build_model(Pix2PixConfig(lambda_L1=100.0, **TINY_P2P))
    for m in (m1, m2):
        m.set_input(batch)
    assert train_step(m2)["G_L1"] == pytest.approx(100 * train_step(m1)["G_L1"], rel=1e-4)


@pytest.mark.parametrize("lambda_identity,gan_mode", [(0.5, "lsgan"), (0.0, "lsgan"), (0.5, "wgangp")])
def test_cyclegan_step_reports_every_loss(lambda_identity, gan_mode):
    model = build_model(CycleGANConfig(lambda_identity=lambda_identity, gan_mode=gan_mode, **TINY_CYCLE))
    model.set_input(_batch())
    losses = train_step(model)
    assert list(losses) == list(model.loss_names)
    assert (losses["idt_A"] > 0) == (lambda_identity > 0)
    assert losses["cycle_A"] > 0 and losses["cycle_B"] > 0


def test_cyclegan_translates_both_ways_and_keeps_size():
    model = build_model(CycleGANConfig(**TINY_CYCLE))
    x = torch.rand(1, 3, 20, 28) * 2 - 1
    assert model.translate(x, "AtoB").shape == x.shape
    assert model.translate(x, "BtoA").shape == x.shape
    assert not torch.equal(model.translate(x, "AtoB"), model.translate(x, "BtoA"))
    with pytest.raises(ValueError, match="direction"):
        model.translate(x, "sideways")


def test_translate_uses_eval_mode_and_restores_training_mode():
    model = build_model(Pix2PixConfig(**TINY_P2P))
    x = shapes(1, seed=5)
    # Dropout is on in the generator: in eval mode the result is deterministic.
    assert torch.equal(model.translate(x), model.translate(x))
    assert model.netG.training


def test_state_round_trip_continues_identically():
    """A model restored from state_dict takes exactly the same next step."""
    cfg = CycleGANConfig(**TINY_CYCLE)
    model = build_model(cfg, seed=1)
    for i in range(6):  # fills the pool and the optimizers' moments
        model.set_input(_batch(1, seed=i))
        train_step(model)
    saved = io.BytesIO()
    torch.save(model.state_dict(), saved)
    saved.seek(0)
    clone = build_model(cfg, seed=2)
    clone.load_state_dict(torch.load(saved, weights_only=True))  # as checkpoints are read
    rng = torch.random.get_rng_state()
    model.set_input(_batch(1, seed=10))
    expected = train_step(model)
    torch.random.set_rng_state(rng)
    clone.set_input(_batch(1, seed=10))
    assert train_step(clone) == expected
    for a, b in zip(model.nets["G_A"].parameters(), clone.nets["G_A"].parameters()):
        assert torch.equal(a, b)


def test_registry():
    assert model_class("pix2pix").__name__ == "Pix2PixModel"
    assert family_for_layout("aligned") == family_for_layout("paired") == "pix2pix"
    assert family_for_layout("unpaired") == "cyclegan"


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
@pytest.mark.parametrize("family,kwargs", [("pix2pix", TINY_P2P), ("cyclegan", TINY_CYCLE)])
def test_mixed_precision_steps_give_finite_losses(precision, family, kwargs):
    from training_core.config import config_class

    model = build_model(config_class(family)(**kwargs), precision=precision)
    for seed in range(2):
        model.set_input(_batch(2, seed=seed))
        losses = train_step(model)
        assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())
    assert model.translate(_batch(1)["A"]).dtype == torch.float32
