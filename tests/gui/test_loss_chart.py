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
    assert {"Difference from target", "Generator vs critic", "Critic on real pairs", "Critic on generated"} == names
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
