import math

import pytest
import torch

from training_core.errors import ConfigError
from training_core.models.losses import GANLoss, ImagePool, gradient_penalty


def test_vanilla_is_bce_on_logits():
    loss = GANLoss("vanilla")
    zeros = torch.zeros(2, 1, 4, 4)
    assert loss(zeros, True).item() == pytest.approx(math.log(2))
    assert loss(torch.full((1, 1, 3, 3), 20.0), True).item() < 1e-6
    assert loss(torch.full((1, 1, 3, 3), 20.0), False).item() == pytest.approx(20.0, rel=1e-4)


def test_lsgan_is_squared_distance_to_the_label():
    loss = GANLoss("lsgan")
    pred = torch.full((1, 1, 2, 2), 0.25)
    assert loss(pred, True).item() == pytest.approx(0.75**2)
    assert loss(pred, False).item() == pytest.approx(0.25**2)


def test_wgangp_is_the_critic_mean():
    loss = GANLoss("wgangp")
    pred = torch.tensor([1.0, 3.0])
    assert loss(pred, True).item() == -2.0
    assert loss(pred, False).item() == 2.0


def test_unknown_gan_mode_is_refused():
    with pytest.raises(ConfigError, match="gan_mode 'hinge'"):
        GANLoss("hinge")


def test_gradient_penalty_is_zero_for_a_unit_gradient_critic_and_differentiable():
    # A critic f(x) = sum(x) / sqrt(n) has gradient norm exactly 1 everywhere.
    real, fake = torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2)
    unit = lambda x: x.flatten(1).sum(1) / 2.0  # noqa: E731  (n = 4)
    assert gradient_penalty(unit, real, fake).item() == pytest.approx(0.0, abs=1e-6)
    w = torch.tensor(3.0, requires_grad=True)
    penalty = gradient_penalty(lambda x: w * x.flatten(1).sum(1), real, fake, lambda_gp=10.0)
    assert penalty.item() == pytest.approx(10 * (3 * 2 - 1) ** 2, rel=1e-5)
    penalty.backward()
    assert w.grad is not None and w.grad.item() > 0


def test_pool_stores_until_full_then_returns_a_mix_of_old_and_new():
    pool = ImagePool(pool_size=4, seed=0)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first)  # filling: returned as is
    out = pool.query(torch.full((8, 1, 1, 1), 100.0)).flatten()
    # Once full, some queries return stored (older) images and store the new ones in their place.
    old = out[out < 100]
    assert len(old) > 0 and set(old.tolist()) <= {0.0, 1.0, 2.0, 3.0}
    assert sum(t.item() == 100.0 for t in pool.images) == len(old)


def test_pool_swaps_about_half_the_time_and_keeps_its_size():
    pool = ImagePool(pool_size=2, seed=1)
    pool.query(torch.zeros(2, 1, 1, 1))
    returned_old = 0
    for i in range(1, 401):
        out = pool.query(torch.full((1, 1, 1, 1), float(i)))
        returned_old += int(out.item() != i)
        assert len(pool.images) == 2
    assert 150 < returned_old < 250


def test_pool_of_size_zero_passes_images_through():
    images = torch.randn(3, 3, 4, 4)
    assert ImagePool(0).query(images) is images


def test_pool_state_round_trip_repeats_the_same_choices():
    pool = ImagePool(pool_size=3, seed=5)
    for i in range(10):
        pool.query(torch.full((1, 1, 1, 1), float(i)))
    clone = ImagePool(pool_size=3, seed=99)
    clone.load_state_dict(pool.state_dict())
    for i in range(10, 40):
        x = torch.full((1, 1, 1, 1), float(i))
        assert torch.equal(pool.query(x), clone.query(x))


@pytest.mark.parametrize("policy", ["translation", "translation,cutout", "color,translation,cutout"])
def test_differentiable_augmentation_keeps_shapes_changes_images_and_passes_gradients(policy):
    from training_core.models.augment import diff_augment

    torch.manual_seed(0)
    x = (torch.rand(4, 6, 32, 32) * 2 - 1).requires_grad_(True)
    y = diff_augment(x, policy)
    assert y.shape == x.shape and not torch.equal(y, x)
    y.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0  # what the generator made is still what D judges
    assert diff_augment(x, "none") is x


def test_augmented_discriminators_still_teach_the_generators():
    from tiny import train_step

    from training_core.config import CycleGANConfig, Pix2PixConfig
    from training_core.models.registry import build_model

    for cfg in (
        Pix2PixConfig(netG="unet_32", ngf=8, ndf=8, diff_augment="color,translation,cutout"),
        CycleGANConfig(netG="resnet_1blocks", ngf=8, ndf=8, diff_augment="color,translation,cutout"),
    ):
        model = build_model(cfg)
        model.set_input({"A": torch.rand(2, 3, 32, 32) * 2 - 1, "B": torch.rand(2, 3, 32, 32) * 2 - 1})
        before = {k: v.clone() for k, v in model.nets[model.generator_names[0]].state_dict().items()}
        losses = train_step(model)
        assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())
        after = model.nets[model.generator_names[0]].state_dict()
        assert any(not torch.equal(before[k], after[k]) for k in before if before[k].is_floating_point())


def test_feature_matching_is_zero_for_the_target_itself_and_pulls_only_the_generated_side():
    from training_core.models.losses import feature_matching
    from training_core.models.networks import define_D

    net = define_D(6, 8, "basic", num_D=2)
    real = torch.rand(1, 6, 64, 64)
    assert feature_matching(net.activations(real), net.activations(real)).item() == 0
    fake = torch.rand(1, 6, 64, 64, requires_grad=True)
    real_maps = net.activations(real.requires_grad_(True))
    loss = feature_matching(net.activations(fake), real_maps)
    loss.backward()
    assert loss.item() > 0 and fake.grad.abs().sum() > 0
    assert real.grad is None  # the real side is a fixed target


def test_feature_matching_teaches_the_generator_through_a_multi_scale_critic():
    from training_core.config import Pix2PixConfig
    from training_core.models.registry import build_model

    torch.manual_seed(0)
    batch = {"A": torch.rand(2, 3, 64, 64) * 2 - 1, "B": torch.rand(2, 3, 64, 64) * 2 - 1}
    for augment in ("none", "translation"):
        cfg = Pix2PixConfig(netG="unet_64", ngf=8, ndf=8, num_D=2, lambda_feat=10, lambda_L1=0, diff_augment=augment)
        model = build_model(cfg)
        model.set_input(batch)
        losses = model.step()
        assert set(losses) == {"G_GAN", "G_L1", "G_feat", "D_real", "D_fake"}
        assert losses["G_feat"].item() > 0 and losses["G_L1"].item() == 0
        # With the adversarial and L1 terms out of the way, feature matching alone moves the generator.
        model.optimizers["G"].zero_grad()
        model.criterion_gan = lambda prediction, real: sum(p.sum() for p in prediction) * 0
        model.step()
        grads = [p.grad for p in model.nets["G"].parameters() if p.grad is not None]
        assert grads and any(g.abs().sum() > 0 for g in grads)
    plain = build_model(Pix2PixConfig(netG="unet_64", ngf=8, ndf=8))
    plain.set_input(batch)
    assert "G_feat" not in plain.step()  # off: the papers' four losses


def test_wgan_gp_penalises_every_scale_of_a_multi_scale_critic():
    from training_core.models.networks import define_D

    torch.manual_seed(0)
    net = define_D(3, 8, "basic", norm="none", num_D=2)
    real, fake = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)
    penalty = gradient_penalty(net, real, fake)
    penalty.backward()
    assert penalty.item() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.scales[1].parameters() if p.dim() > 1)


def test_the_structural_loss_is_zero_for_the_target_and_teaches_the_output_in_float32_under_autocast():
    from training_core.models.losses import structural_dissimilarity

    torch.manual_seed(0)
    target = torch.rand(2, 3, 64, 64) * 2 - 1
    output = (target + 0.1 * torch.randn_like(target)).clamp(-1, 1).requires_grad_(True)
    assert structural_dissimilarity(target, target).item() == 0
    loss = structural_dissimilarity(output, target)
    loss.backward()
    assert loss.item() > 0 and output.grad.abs().sum() > 0
    # bf16 autocast on the CPU: the windows' statistics in bf16 are off by far more than the loss's
    # own size for outputs close to the target (and NaN in training); the loss stays in float32.
    with torch.autocast("cpu", dtype=torch.bfloat16):
        under_autocast = structural_dissimilarity(output, target)
    assert under_autocast.dtype == torch.float32 and abs(under_autocast.item() - loss.item()) < 1e-6


def test_the_structural_loss_alone_moves_the_generator_and_is_off_by_default():
    from training_core.config import Pix2PixConfig
    from training_core.models.registry import build_model

    torch.manual_seed(0)
    batch = {"A": torch.rand(2, 3, 64, 64) * 2 - 1, "B": torch.rand(2, 3, 64, 64) * 2 - 1}
    model = build_model(Pix2PixConfig(netG="unet_64", ngf=8, ndf=8, lambda_ssim=50, lambda_L1=0))
    model.set_input(batch)
    losses = model.step()
    assert set(losses) == {"G_GAN", "G_L1", "G_SSIM", "D_real", "D_fake"}
    assert 0 < losses["G_SSIM"].item() <= 100 and losses["G_L1"].item() == 0
    model.criterion_gan = lambda prediction, real: prediction.sum() * 0  # the structural term alone
    model.step()
    grads = [p.grad for p in model.nets["G"].parameters() if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)
    plain = build_model(Pix2PixConfig(netG="unet_64", ngf=8, ndf=8))
    plain.set_input(batch)
    assert "G_SSIM" not in plain.step()  # the papers' losses
