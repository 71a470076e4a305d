"""The Train tab's settings come from the engine's one list: the same set as the CLI, and each reaches the run."""

from conftest import set_tiny
from PySide6.QtCore import Qt
from tiny import paired_report, unpaired_report

from gan_studio.panels.run_setup import SET_ELSEWHERE
from gan_studio.widgets.settings_form import set_value
from training_core import options
from training_core.cli import _train_parser
from training_core.store import ModelLibrary


def _open(window, qtbot, folder):
    with qtbot.waitSignal(window.dataset_panel.opened, timeout=30_000):
        window.dataset_panel.open_folder(folder)


def test_the_app_and_the_cli_offer_the_same_settings(make_window, qtbot):
    window = make_window()
    setup = window.train_panel.setup
    in_app = set(setup.basic.editors) | set(setup.advanced.editors) | set(SET_ELSEWHERE)
    cli = {a.dest for a in _train_parser()._actions} & {s.name for s in options.SETTINGS}
    assert in_app == cli == {s.name for s in options.SETTINGS}
    # The one setting set elsewhere: the direction, on the Dataset tab, with the same choices.
    direction = window.dataset_panel.direction
    assert [direction.itemData(i) for i in range(direction.count())] == list(options.DIRECTIONS)
    named = {
        "gan_mode",
        "init_type",
        "init_gain",
        "n_layers_D",
        "lambda_L1",
        "lambda_A",
        "lambda_B",
        "lambda_identity",
        "pool_size",
        "flip",
        "load_size",
        "preprocess",
        "lr_policy",
        "plateau_patience",
    }
    assert named <= in_app


def test_each_familys_own_settings_are_shown_for_it_only(make_window, qtbot, tmp_path):
    window = make_window()
    window.tabs.setCurrentWidget(window.train_panel)
    setup = window.train_panel.setup
    setup.advanced_toggle.click()
    form = setup.advanced
    _open(window, qtbot, paired_report(tmp_path / "pairs").root)
    families = [setup.family.itemData(i) for i in range(setup.family.count())]
    assert families == ["pix2pix"]  # side-by-side pairs: what the engine can train on them
    assert form.editor("lambda_L1").isVisibleTo(window) and not form.editor("pool_size").isVisibleTo(window)

    _open(window, qtbot, unpaired_report(tmp_path / "unpaired").root)
    window.tabs.setCurrentWidget(window.train_panel)
    assert [setup.family.itemData(i) for i in range(setup.family.count())] == ["cyclegan", "cut", "fastcut"]
    assert not form.editor("lambda_L1").isVisibleTo(window) and form.editor("pool_size").isVisibleTo(window)
    assert not form.editor("lambda_NCE").isVisibleTo(window)
    assert form.editor("gan_mode").currentData() == "lsgan"  # the CycleGAN paper's, from the preset
    assert "lambda_L1" not in setup.overrides()

    # The one-way families: when to pick each is its tooltip; their own settings replace CycleGAN's.
    tooltip = setup.family.itemData(2, Qt.ItemDataRole.ToolTipRole)
    assert "half" in tooltip and "A to B only" in tooltip
    setup.family.setCurrentIndex(2)
    assert form.editor("lambda_NCE").isVisibleTo(window) and not form.editor("pool_size").isVisibleTo(window)
    assert form.editor("lambda_NCE").value() == 10.0  # FastCUT's, where CUT has 1
    assert "pool_size" not in setup.overrides()


def test_settings_changed_in_the_app_reach_the_model(make_window, qtbot, tmp_path):
    window = make_window()
    _open(window, qtbot, paired_report(tmp_path / "data").root)
    panel = window.train_panel
    set_tiny(panel, iterations=3)
    form = panel.setup.advanced
    for name, value in {
        "gan_mode": "wgangp",
        "netD": "n_layers",
        "n_layers_D": 2,
        "lambda_L1": 50.0,
        "init_type": "kaiming",
        "flip": False,
        "lr_policy": "plateau",
        "plateau_patience": 3,
    }.items():
        set_value(form.editor(name), value)
    panel.setup.name.setText("Tuned")
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.session is None, timeout=60_000)
    assert panel.error.isHidden(), panel.error.text()
    record = ModelLibrary().get("Tuned").record
    assert (record.model["gan_mode"], record.model["netD"], record.model["n_layers_D"]) == ("wgangp", "n_layers", 2)
    assert (record.model["lambda_L1"], record.model["init_type"]) == (50.0, "kaiming")
    assert record.data["flip"] is False
    assert (record.train["lr_policy"], record.train["plateau_patience"]) == ("plateau", 3)
    # The training size was changed and the load size not: it follows at the preset's ratio.
    assert record.data["crop_size"] == 32 and record.data["load_size"] == round(32 * 143 / 128)


def test_each_section_of_the_advanced_settings_has_one_heading(qtbot):
    from gan_studio.widgets.settings_form import SectionTitle, SettingsForm

    form = SettingsForm(tuple(s for s in options.SETTINGS if not s.basic), headings=True)
    qtbot.addWidget(form)
    titles = [title.text() for title in form.findChildren(SectionTitle)]
    assert len(titles) == len(set(titles)) >= 3, titles
    # Every setting sits under its own section's heading.
    rows = [form.form.itemAt(i, form.form.ItemRole.SpanningRole) for i in range(form.form.rowCount())]
    heading_rows = [i for i, item in enumerate(rows) if item is not None]
    for name, editor in form.editors.items():
        row, _ = form.form.getWidgetPosition(editor)
        above = max(r for r in heading_rows if r < row)
        section = options.BY_NAME[name].section
        assert rows[above].widget().section == section, name
