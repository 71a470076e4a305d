"""CUT and FastCUT: PatchNCE, the step, flip-equivariance and exact continuation from saved state."""

import io

import pytest
import torch
from fresh_random import scramble_global_random_state
from synthetic import inverted, shapes
from tiny import train_step

from training_core.config import CUTConfig, FastCUTConfig
from training_core.errors import ConfigError
from training_core.models.cut import CUTModel, encoder_features, nce_layers
from training_core.models.patchnce import patch_nce

TINY = dict(netG="resnet_1blocks", ngf=8, ndf=8)


def _batch(n=2, seed=0):
    a = shapes(n, seed=seed)
    return {"A": a, "B": inverted(a)}


def _unit(*shape, seed=0):
    return torch.nn.functional.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=-1)


def _params(net):
    return [p.detach().clone() for p in net.parameters()]


def _changed(before, net):
    return any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_patch_nce_is_low_for_matching_patches_and_high_for_shuffled_ones():
    queries = _unit(2, 256, 64)
    matching = patch_nce(queries, queries.clone())
    shuffled = patch_nce(queries, queries[:, torch.randperm(256, generator=torch.Generator().manual_seed(1))])
    assert matching.shape == (2,)
    assert matching.max() < 0.01  # the positive wins by far
    # Nothing to tell the positive apart: about log(256) = 5.5, the loss of a guess.
    assert shuffled.min() > 4.5


def test_patch_nce_negatives_come_from_the_same_image_only():
    """An image's loss does not change when another image of the batch does."""
    queries, keys = _unit(2, 16, 8, seed=2), _unit(2, 16, 8, seed=3)
    other = keys.clone()
    other[1] = _unit(16, 8, seed=4)
    assert torch.equal(patch_nce(queries, keys)[0], patch_nce(queries, other)[0])
    assert not torch.equal(patch_nce(queries, keys)[1], patch_nce(queries, other)[1])


def test_layers_are_the_input_both_downsamplings_and_two_residual_blocks():
    assert nce_layers(9) == (0, 4, 7, 10, 14)
    assert nce_layers(6) == (0, 4, 7, 10, 14)
    assert nce_layers(1) == (0, 4, 7, 10)
    model = CUTModel(CUTConfig(netG="resnet_6blocks", ngf=8, ndf=8))
    x = torch.rand(1, 3, 32, 32)
    features = encoder_features(model.nets["G"], x, model.layers)
    assert torch.equal(features[0], x)
    assert [tuple(f.shape[1:]) for f in features] == [(3, 32, 32), (16, 16, 16), (32, 8, 8), (32, 8, 8), (32, 8, 8)]
    assert [mlp[0].in_features for mlp in model.nets["F"].mlps] == [3, 16, 32, 32, 32]
    assert all(mlp[-1].out_features == 256 for mlp in model.nets["F"].mlps)


def test_patch_nce_gradients_reach_the_generator_and_the_heads():
    model = CUTModel(FastCUTConfig(**TINY))
    x = _batch()["A"]
    loss = model._patch_nce(x, model.nets["G"](x), flipped=False).mean()
    loss.backward()
    g, f = model.nets["G"], model.nets["F"]
    assert g.model[-2].weight.grad.abs().sum() > 0  # the output layer: through the output's features
    assert g.model[1].weight.grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in f.parameters() if p.dim() > 1)


@pytest.mark.parametrize("config_class", [CUTConfig, FastCUTConfig])
def test_one_step_changes_generator_discriminator_and_heads(config_class):
    model = CUTModel(config_class(**TINY))
    before = {name: _params(net) for name, net in model.nets.items()}
    model.set_input(_batch())
    losses = train_step(model)
    assert list(losses) == list(model.loss_names)
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())
    assert all(_changed(before[name], net) for name, net in model.nets.items())
    assert set(model.optimizers) == {"G", "D", "F"}


def _generator_batches(model, steps=1, seed=0):
    """What the generator was fed in each of ``steps`` steps."""
    seen = []
    hook = model.nets["G"].register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    try:
        for i in range(steps):
            model.set_input(_batch(2, seed=seed + i))
            train_step(model)
    finally:
        hook.remove()
    return seen


def test_cut_has_the_identity_term_and_fastcut_does_not():
    cut, fast = CUTModel(CUTConfig(**TINY)), CUTModel(FastCUTConfig(**TINY))
    assert "NCE_Y" in cut.loss_names and "NCE_Y" not in fast.loss_names
    assert (cut.config.lambda_NCE, fast.config.lambda_NCE) == (1.0, 10.0)
    batch = _batch()
    (cut_input,) = _generator_batches(cut)
    (fast_input,) = _generator_batches(fast)
    assert torch.equal(cut_input, torch.cat((batch["A"], batch["B"])))  # G(A) and G(B), one pass
    assert torch.equal(fast_input, batch["A"]) or torch.equal(fast_input, batch["A"].flip(3))  # no B


def test_flip_equivariance_flips_some_steps_inputs_and_compares_the_flipped_back_features():
    fast = CUTModel(FastCUTConfig(**TINY))
    inputs = _generator_batches(fast, steps=12)
    plain = [torch.equal(x, _batch(2, seed=i)["A"]) for i, x in enumerate(inputs)]
    flipped = [torch.equal(x, _batch(2, seed=i)["A"].flip(3)) for i, x in enumerate(inputs)]
    assert all(p != f for p, f in zip(plain, flipped)) and any(plain) and any(flipped)
    cut = CUTModel(CUTConfig(flip_equivariance=False, **TINY))
    assert not any(torch.equal(x, x.flip(3)) for x in _generator_batches(cut, steps=4))  # sanity of the probe
    # On the input layer the flipped output's features, flipped back, are the input's: PatchNCE finds
    # the patches. Compared unflipped they are another image's.
    fresh = CUTModel(FastCUTConfig(**TINY))
    fresh.layers = (0,)
    noise = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(7)) * 2 - 1
    with torch.no_grad():
        matched = fresh._patch_nce(noise, noise.flip(3), flipped=True)
        unmatched = fresh._patch_nce(noise, noise.flip(3), flipped=False)
    assert matched.max() + 3 < unmatched.min()


@pytest.mark.parametrize("config_class", [CUTConfig, FastCUTConfig])
def test_saved_state_holds_the_heads_and_continues_bit_identically(config_class):
    config = config_class(**TINY)
    model = CUTModel(config, seed=1)
    for i in range(3):
        model.set_input(_batch(2, seed=i))
        train_step(model)
    saved = io.BytesIO()
    torch.save(model.state_dict(), saved)
    saved.seek(0)
    state = torch.load(saved, weights_only=True)  # as checkpoints are read
    assert set(state["nets"]) == {"G", "D", "F"} and set(state["optimizers"]) == {"G", "D", "F"}
    clone = CUTModel(config, seed=2)
    clone.load_state_dict(state)
    for a, b in zip(model.nets["F"].state_dict().values(), clone.nets["F"].state_dict().values()):
        assert torch.equal(a, b)
    without_draws = CUTModel(config, seed=2)
    without_draws.load_state_dict({**state, "extra": {}})  # the sampler's state left out

    runs = []
    for m in (model, clone, without_draws):
        scramble_global_random_state()  # the step draws nothing from the global generators
        m.set_input(_batch(2, seed=10))
        runs.append((train_step(m), [p.detach().clone() for p in m.nets["G"].parameters()]))
    (expected, weights), (resumed, resumed_weights), (other, _) = runs
    assert resumed == expected
    assert all(torch.equal(a, b) for a, b in zip(weights, resumed_weights))
    assert other["NCE"] != expected["NCE"]  # other locations sampled: the test sees the sampler's state


def test_translates_one_way_at_any_multiple_of_four():
    model = CUTModel(FastCUTConfig(**TINY))
    x = torch.rand(1, 3, 20, 28) * 2 - 1
    assert model.translate(x).shape == x.shape
    with pytest.raises(ValueError, match="one way"):
        model.generator("BtoA")


def test_average_of_the_generator_translates_when_ema_is_on():
    model = CUTModel(FastCUTConfig(ema_decay=0.9, **TINY))
    model.set_input(_batch())
    train_step(model)
    x = _batch(1)["A"]
    assert model.generator() is model.averaged["G"]
    assert not torch.equal(model.translate(x), model.nets["G"].eval()(x))


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_steps_give_finite_losses(precision):
    model = CUTModel(CUTConfig(**TINY), precision=precision)
    for seed in range(2):
        model.set_input(_batch(2, seed=seed))
        assert all(torch.isfinite(torch.tensor(v)) for v in train_step(model).values())
    assert model.translate(_batch(1)["A"]).dtype == torch.float32


@pytest.mark.parametrize(
    "settings,message",
    [
        (dict(netG="unet_256"), "ResNet generator"),
        (dict(num_patches=0), "num_patches"),
        (dict(nce_T=0.0), "nce_T"),
        (dict(lambda_NCE=-1.0), "lambda_NCE"),
        (dict(output_nc=1), "nce_idt"),
    ],
)
def test_bad_settings_are_refused_with_the_fix(settings, message):
    with pytest.raises(ConfigError, match=message):
        CUTConfig(**settings).validate()


@pytest.mark.slow  # learns: the full run (CI) has it, the fast loop not
def test_a_short_run_lowers_the_patch_nce_loss():
    """Training teaches G and the heads to keep each patch recognisable: PatchNCE falls from about
    log(locations), where the output still says little about its input (the first step, from the
    initial weights, is left out: it starts higher still)."""
    model = CUTModel(FastCUTConfig(lambda_NCE=1.0, **TINY), seed=0)
    nce = []
    for i in range(100):
        model.set_input(_batch(2, seed=i % 8))
        nce.append(train_step(model)["NCE"])
    first, last = sum(nce[1:11]) / 10, sum(nce[-10:]) / 10
    assert last < first - 0.5, nce


@pytest.mark.parametrize("family,lambda_NCE,identity,flip", [("cut", 1.0, True, False), ("fastcut", 10.0, False, True)])
def test_the_paper_preset_is_the_papers_recipe_and_the_quick_one_cyclegans_networks(family, lambda_NCE, identity, flip):
    from training_core.presets import resolve

    model, _, train = resolve(family, "paper", 100)
    assert (model.netG, model.ngf, model.ndf, model.norm, model.gan_mode) == (
        "resnet_9blocks",
        64,
        64,
        "instance",
        "lsgan",
    )
    assert (model.lr, model.beta1, model.beta2, model.num_patches, model.nce_T) == (2e-4, 0.5, 0.999, 256, 0.07)
    assert (model.lambda_NCE, model.nce_idt, model.flip_equivariance) == (lambda_NCE, identity, flip)
    assert train.lr_policy == "linear"
    quick, _, _ = resolve(family, "quick", 100)
    cyclegan, _, _ = resolve("cyclegan", "quick", 100)
    assert (quick.netG, quick.ngf, quick.ndf) == (cyclegan.netG, cyclegan.ngf, cyclegan.ndf)
    with pytest.raises(ConfigError, match="pool_size do"):
        resolve(family, "quick", 100, {"pool_size": 3})  # CycleGAN's image pool is not CUT's
