import pytest
import torch

from training_core.config import TrainConfig
from training_core.models import metrics
from training_core.train.schedule import lr_factor, make_scheduler


def test_linear_policy_is_constant_then_decays_to_zero():
    cfg = TrainConfig(iterations=100, lr_policy="linear", lr_decay_start=0.5)
    factors = [lr_factor(i, cfg) for i in range(101)]
    assert factors[:51] == [1.0] * 51
    assert factors[75] == pytest.approx(0.5)
    assert factors[100] == 0.0
    assert all(a >= b for a, b in zip(factors, factors[1:]))


def test_step_and_cosine_policies():
    step = TrainConfig(iterations=90, lr_policy="step")
    assert [lr_factor(i, step) for i in (0, 29, 30, 60)] == pytest.approx([1, 1, 0.1, 0.01])
    assert lr_factor(10, TrainConfig(iterations=90, lr_policy="step", lr_step_iters=5)) == pytest.approx(0.01)
    cos = TrainConfig(iterations=100, lr_policy="cosine")
    assert [lr_factor(i, cos) for i in (0, 50, 100)] == pytest.approx([1, 0.5, 0])


def test_scheduler_state_survives_a_weights_only_round_trip():
    import io

    cfg = TrainConfig(iterations=10)
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([param], lr=1.0)
    sched = make_scheduler(opt, cfg)
    for _ in range(7):
        opt.step()
        sched.step()
    buffer = io.BytesIO()
    torch.save(sched.state_dict(), buffer)
    buffer.seek(0)
    opt2 = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched2 = make_scheduler(opt2, cfg)
    sched2.load_state_dict(torch.load(buffer, weights_only=True))
    opt2.param_groups[0]["lr"] = sched2.get_last_lr()[0]
    assert opt2.param_groups[0]["lr"] == pytest.approx(opt.param_groups[0]["lr"]) == pytest.approx(0.6)


def test_metrics_on_known_images():
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    assert metrics.l1(x, x).tolist() == [0.0, 0.0]
    assert metrics.psnr(x, x).tolist() == [100.0, 100.0]
    assert metrics.ssim(x, x) == pytest.approx(torch.ones(2), abs=1e-5)
    # A constant error of 0.1 on the [0, 1] scale is 20 dB.
    assert metrics.psnr(x, x + 0.2) == pytest.approx(torch.full((2,), 20.0), abs=1e-3)
    assert (metrics.ssim(-x, x) < 0.1).all()  # inverted: no structural agreement


def test_ssim_matches_the_reference_implementation():
    # Expected value from scikit-image's structural_similarity(gaussian_weights=True, sigma=1.5,
    # use_sample_covariance=False, data_range=1, channel_axis=2) on the same images.
    torch.manual_seed(0)
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    y = (x + torch.randn_like(x) * 0.5).clamp(-1, 1)
    assert metrics.ssim(y, x).item() == pytest.approx(0.7512963, abs=1e-5)


def test_ssim_on_images_smaller_than_the_window():
    x = torch.rand(1, 3, 6, 9) * 2 - 1
    assert metrics.ssim(x, x).item() == pytest.approx(1.0, abs=1e-5)


def test_plateau_cuts_the_rate_after_patience_checks_without_improvement():
    from training_core.train.schedule import Plateau

    cfg = TrainConfig(iterations=100, lr_policy="plateau", plateau_patience=2, plateau_factor=0.5)
    plateau = Plateau(cfg)
    for value in (1.0, 0.9, 0.8):  # improving: no cut
        plateau.observe(value)
    assert plateau.scale == 1.0
    for value in (0.8, 0.795, 0.81):  # under 1% better is no improvement: the third check cuts
        plateau.observe(value)
    assert plateau.scale == 0.5 and plateau.bad == 0
    plateau.observe(float("nan"))  # a diverged check neither counts nor cuts
    assert plateau.scale == 0.5 and plateau.bad == 0
    assert lr_factor(50, cfg) == 1.0  # the schedule itself is flat; the plateau's scale multiplies it
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([param], lr=1.0)
    sched = make_scheduler(opt, cfg, plateau)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] == 0.5


def test_plateau_watches_the_mean_training_loss_between_checks():
    from training_core.train.schedule import Plateau

    plateau = Plateau(TrainConfig(lr_policy="plateau"))
    for value in (torch.tensor(2.0), torch.tensor(4.0)):
        plateau.add_loss(value)
    assert plateau.take_mean_loss() == 3.0
    assert plateau.take_mean_loss() == 0.0 and plateau.loss_count == 0


def test_the_checkerboard_measure_sees_a_period_two_grid_and_not_a_clean_image():
    torch.manual_seed(0)
    smooth = torch.nn.functional.avg_pool2d(torch.rand(1, 3, 64, 64) * 2 - 1, 5, 1, 2)  # a soft picture
    grid = torch.ones(64, 64)
    grid[::2, ::2] = grid[1::2, 1::2] = -1  # the pattern of uneven transposed-convolution overlaps
    gridded = smooth + 0.1 * grid
    assert metrics.checkerboard(smooth, smooth).item() == pytest.approx(1.0)
    assert metrics.checkerboard(gridded, smooth).item() > 10
    assert metrics.checkerboard(smooth, gridded).item() < 0.1
