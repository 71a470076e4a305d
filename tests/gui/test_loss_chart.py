"""The loss chart: every curve on a scale where it can be read, under a plain name, smoothed."""

from gan_studio.widgets.loss_chart import LossChart


def _history(n=200):
    """pix2pix's losses as they come: the weighted L1 about 40 times the adversarial ones."""
    return [
        (i, {"G_L1": 30.0 - i * 0.05, "G_GAN": 0.7 + 0.3 * (i % 2), "D_real": 0.5, "D_fake": 0.45})
        for i in range(1, n + 1)
    ]


def test_adversarial_curves_are_not_flattened_by_the_l1_curve(qtbot):
    chart = LossChart()
    qtbot.addWidget(chart)
    chart.add_many(_history())
    assert chart.axis_of("G_L1") is chart.y_axis and chart.axis_of("G_GAN") is chart.adversarial_axis
    assert chart.y_axis.max() >= 25
    # The adversarial curves (at most about 1) fill a good part of their own axis.
    assert 1.0 <= chart.adversarial_axis.max() <= 2.0


def test_curves_have_plain_names_and_are_smoothed(qtbot):
    chart = LossChart()
    qtbot.addWidget(chart)
    chart.add_many(_history())
    names = {s.name() for s in chart.chart_.series()}
    assert {"Difference from target", "Generator vs critic", "Critic on real images", "Critic on generated"} == names
    ys = [p.y() for p in chart.points["G_GAN"][-20:]]
    assert max(ys) - min(ys) < 0.15  # the raw values jump by 0.3 every iteration


def test_clear_forgets_the_last_run(qtbot):
    chart = LossChart()
    qtbot.addWidget(chart)
    chart.add_many(_history(10))
    chart.clear()
    assert chart.point_count("G_L1") == 0 and not chart.chart_.series()
    chart.add(1, {"G_L1": 5.0})
    assert chart.points["G_L1"][0].y() == 5.0  # smoothing starts afresh


def test_a_resumed_runs_history_draws_like_the_live_curve_it_continues(qtbot):
    """Live steps (here one per iteration, a slow run) and the metrics log's 10-iteration means of the
    same losses give the same curve on the same scale: a resume must not redraw it coarser or rescaled."""
    steps = [
        (i, {"G_L1": 30.0 - i * 0.05 + (3.0 if i % 3 else -6.0), "G_GAN": 0.7 + 0.6 * (i % 2)}) for i in range(1, 201)
    ]
    logged = [
        (end, {key: sum(losses[key] for _, losses in steps[end - 10 : end]) / 10 for key in ("G_L1", "G_GAN")})
        for end in range(10, 201, 10)
    ]
    live, history = LossChart(), LossChart()
    qtbot.addWidget(live)
    qtbot.addWidget(history)
    for iteration, losses in steps:
        live.add(iteration, losses)
    history.add_many(logged)
    for key in ("G_L1", "G_GAN"):
        drawn = [(p.x(), round(p.y(), 6)) for p in live.points[key]]
        assert drawn == [(p.x(), round(p.y(), 6)) for p in history.points[key]]
    for axis in ("y_axis", "adversarial_axis"):
        assert (getattr(live, axis).min(), getattr(live, axis).max()) == (
            getattr(history, axis).min(),
            getattr(history, axis).max(),
        )


def test_sparse_live_points_are_smoothed_over_iterations_not_points(qtbot):
    """A fast run reports every ~50 iterations; its curve follows the losses as fast as a slow run's does."""
    dense, sparse = LossChart(), LossChart()
    qtbot.addWidget(dense)
    qtbot.addWidget(sparse)
    for i in range(1, 401):
        dense.add(i, {"G_L1": 10.0 if i <= 200 else 2.0})
        if i % 50 == 0:
            sparse.add(i, {"G_L1": 10.0 if i <= 200 else 2.0})
    assert abs(dense.points["G_L1"][-1].y() - sparse.points["G_L1"][-1].y()) < 0.5


def test_patchnce_is_a_difference_on_the_left_axis_with_a_plain_name(qtbot):
    """CUT's PatchNCE showed as "NCE" on the critic's axis, among the adversarial terms."""
    chart = LossChart()
    qtbot.addWidget(chart)
    chart.add_many([(i, {"G_GAN": 0.5, "NCE": 55.0 - i * 0.1, "D_real": 0.5, "D_fake": 0.5}) for i in range(1, 50)])
    assert chart.axis_of("NCE") is chart.y_axis and chart.axis_of("G_GAN") is chart.adversarial_axis
    assert "Content kept (patches)" in {s.name() for s in chart.chart_.series()}
