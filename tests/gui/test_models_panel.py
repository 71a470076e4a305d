from pathlib import Path

import torch
from PySide6.QtWidgets import QInputDialog, QMessageBox
from reference_nets import ResnetGenerator, get_norm_layer, randomize

from training_core.store import ModelLibrary


def test_import_rename_and_delete_change_the_library_on_disk(make_window, qtbot, tmp_path, monkeypatch):
    window = make_window()
    panel = window.models_panel
    window.tabs.setCurrentWidget(panel)
    net = randomize(ResnetGenerator(3, 3, 4, get_norm_layer("instance"), n_blocks=1))
    torch.save(net.state_dict(), tmp_path / "latest_net_G.pth")
    panel.import_paths([str(tmp_path / "latest_net_G.pth")], "Charcoal")
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 1, timeout=10_000)
    item = panel.tree.topLevelItem(0)
    assert item.text(0) == "Charcoal" and item.text(3) == "imported"
    item.setSelected(True)
    assert not panel.resume_button.isEnabled()  # nothing to resume in an import
    assert window.convert_panel.model.count() == 1  # the Convert area knows it at once

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Charcoal v2", True))
    panel.rename_button.click()
    assert [e.name for e in ModelLibrary().list()] == ["Charcoal v2"]
    assert panel.tree.topLevelItem(0).text(0) == "Charcoal v2"

    panel.tree.topLevelItem(0).setSelected(True)
    path = ModelLibrary().get("Charcoal v2").path
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    panel.delete_button.click()
    assert path.exists()  # cancelled: nothing deleted
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    panel.delete_button.click()
    assert not path.exists() and ModelLibrary().list() == []
    assert panel.tree.isHidden() and not panel.empty.isHidden()


def test_convert_with_this_model_opens_the_convert_area(make_window, qtbot, tmp_path):
    from training_core.library_import import import_reference

    net = randomize(ResnetGenerator(3, 3, 4, get_norm_layer("instance"), n_blocks=1))
    torch.save(net.state_dict(), tmp_path / "g.pth")
    entry = import_reference([tmp_path / "g.pth"], "Pastel", ModelLibrary())
    window = make_window()
    panel = window.models_panel
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 1, timeout=10_000)
    panel.tree.topLevelItem(0).setSelected(True)
    panel.convert_button.click()
    assert window.tabs.currentWidget() is window.convert_panel
    assert window.convert_panel.model.currentData() == entry.id


def test_onnx_export_says_why_it_is_unavailable_and_offers_the_documents_folder(
    make_window, qtbot, tmp_path, monkeypatch
):
    from PySide6.QtCore import QStandardPaths
    from PySide6.QtWidgets import QFileDialog

    import training_core.convert.onnx_extras as extras

    net = randomize(ResnetGenerator(3, 3, 4, get_norm_layer("instance"), n_blocks=1))
    torch.save(net.state_dict(), tmp_path / "latest_net_G.pth")
    real_find_spec = extras.importlib.util.find_spec
    monkeypatch.setattr(
        extras.importlib.util, "find_spec", lambda name, *a: None if name == "onnxscript" else real_find_spec(name, *a)
    )
    window = make_window()
    panel = window.models_panel
    panel.import_paths([str(tmp_path / "latest_net_G.pth")], "Ink")
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 1, timeout=10_000)
    panel.tree.topLevelItem(0).setSelected(True)
    assert not panel.export_button.isEnabled()
    assert 'pip install ".[onnx]"' in panel.export_button.toolTip()  # a source checkout: the checkout's extra

    monkeypatch.setattr(extras.importlib.util, "find_spec", real_find_spec)
    panel._onnx_missing = extras.missing_extras()
    panel._update_buttons()
    assert panel.export_button.isEnabled()
    offered = []
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda parent, title, start, *a: offered.append(start) or ("", "")
    )
    panel.export_button.click()
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    assert offered and offered[0].startswith(documents) and offered[0].endswith(".onnx")
    assert str(ModelLibrary().root) not in offered[0]  # never inside the library's own folders


def test_exporting_a_model_that_translates_both_ways_asks_which_generator(make_window, qtbot, tmp_path, monkeypatch):
    """It always exported A to B: the B to A generator of a CycleGAN could not be had from the app."""
    from PySide6.QtWidgets import QFileDialog

    import training_core.convert.onnx_export as onnx_export

    for name in ("latest_net_G_A.pth", "latest_net_G_B.pth"):
        torch.save(
            randomize(ResnetGenerator(3, 3, 4, get_norm_layer("instance"), n_blocks=1)).state_dict(), tmp_path / name
        )
    window = make_window()
    panel = window.models_panel
    panel.import_paths([str(tmp_path / "latest_net_G_A.pth"), str(tmp_path / "latest_net_G_B.pth")], "Both")
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 1, timeout=10_000)
    panel.tree.topLevelItem(0).setSelected(True)
    panel._onnx_missing = ""
    panel._update_buttons()
    exported, offered = [], []
    monkeypatch.setattr(
        onnx_export, "export_onnx", lambda entry, path, direction, **kw: exported.append(direction) or path
    )
    monkeypatch.setattr(
        QFileDialog,
        "getSaveFileName",
        lambda parent, title, start, *a: offered.append(start) or (str(tmp_path / "x.onnx"), ""),
    )
    monkeypatch.setattr(QInputDialog, "getItem", lambda parent, title, text, items, *a: (items[1], False))
    panel.export_button.click()
    assert not offered and not exported  # the choice cancelled: no save dialog, nothing exported

    monkeypatch.setattr(QMessageBox, "information", lambda *a: None)
    monkeypatch.setattr(QInputDialog, "getItem", lambda parent, title, text, items, *a: (items[1], True))
    panel.export_button.click()
    qtbot.waitUntil(lambda: exported == ["BtoA"], timeout=10_000)
    assert offered[0].endswith("Both BtoA.onnx")


def test_the_list_follows_models_made_and_removed_by_other_processes(make_window, qtbot, tmp_path):
    window = make_window()
    panel = window.models_panel
    assert panel.tree.topLevelItemCount() == 0
    other = ModelLibrary()  # as gan-studio-train or gan-studio-models in a terminal would
    entry = other.create("From the CLI", {"family": "pix2pix"})
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 1, timeout=10_000)
    assert panel.tree.topLevelItem(0).text(0) == "From the CLI"
    other.rename(entry.id, "Renamed there")
    qtbot.waitUntil(lambda: panel.tree.topLevelItem(0).text(0) == "Renamed there", timeout=10_000)
    other.delete(entry.id)
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 0, timeout=10_000)


def test_disabled_actions_say_why(make_window, qtbot, tmp_path):
    from training_core.runlock import RunLock

    window = make_window()
    panel = window.models_panel
    assert not panel.rename_button.isEnabled() and panel.rename_button.toolTip() == "Select a model first"
    entry = ModelLibrary().create("Busy", {"family": "pix2pix"})
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 1, timeout=10_000)
    with RunLock(entry.run_dir):  # another process trains it
        panel.refresh()
        panel.tree.topLevelItem(0).setSelected(True)
        for button in (panel.rename_button, panel.delete_button, panel.resume_button):
            assert not button.isEnabled() and "training right now" in button.toolTip()
    panel.refresh()
    panel.tree.topLevelItem(0).setSelected(True)
    assert panel.rename_button.isEnabled() and panel.resume_button.isEnabled()
    assert not panel.convert_button.isEnabled() and "no trained weights" in panel.convert_button.toolTip()
    entry.weights_path.mkdir()  # a folder where the weights should be: there, but nothing to convert with
    panel.refresh()
    panel.tree.topLevelItem(0).setSelected(True)
    for button in (panel.convert_button, panel.export_button):
        assert not button.isEnabled() and "generator.safetensors is a folder" in button.toolTip(), button.toolTip()


def _select(panel, name):
    for i in range(panel.tree.topLevelItemCount()):
        item = panel.tree.topLevelItem(i)
        item.setSelected(item.text(0) == name)


def test_the_buttons_stay_where_they_are_whichever_model_is_selected(make_window, qtbot):
    library = ModelLibrary()
    library.create("Paused one", {"family": "pix2pix"}, state="paused")
    library.create("Finished one", {"family": "pix2pix"}, state="finished")
    window = make_window()
    panel = window.models_panel
    window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 2, timeout=10_000)
    buttons = (panel.resume_button, panel.convert_button, panel.rename_button, panel.delete_button)
    buttons += (panel.export_button, panel.reveal_button)
    places = []
    for name, label in (("Paused one", "Resume"), ("Finished one", "Continue Training…")):
        _select(panel, name)
        assert panel.resume_button.text() == label
        qtbot.waitUntil(lambda: panel.resume_button.width() >= panel.resume_button.sizeHint().width())
        places.append([(b.x(), b.width()) for b in buttons])
    assert places[0] == places[1]  # a click where Delete was never lands on Export ONNX


def test_onnx_export_names_this_apps_python_and_sees_an_install_without_a_restart(
    make_window, qtbot, tmp_path, monkeypatch
):
    import sys

    from PySide6.QtCore import QPointF, QStandardPaths
    from PySide6.QtGui import QEnterEvent
    from PySide6.QtWidgets import QApplication, QFileDialog

    import training_core.convert.onnx_extras as extras

    real_find_spec = extras.importlib.util.find_spec
    monkeypatch.setattr(
        extras.importlib.util, "find_spec", lambda name, *a: None if name == "onnx" else real_find_spec(name, *a)
    )
    net = randomize(ResnetGenerator(3, 3, 4, get_norm_layer("instance"), n_blocks=1))
    torch.save(net.state_dict(), tmp_path / "latest_net_G.pth")
    window = make_window()
    panel = window.models_panel
    panel.import_paths([str(tmp_path / "latest_net_G.pth")], "Ink wash")
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 1, timeout=10_000)
    panel.tree.topLevelItem(0).setSelected(True)
    assert not panel.export_button.isEnabled()
    assert f"{sys.executable} -m pip install" in panel.export_button.toolTip()  # not whichever pip is first

    monkeypatch.setattr(extras.importlib.util, "find_spec", real_find_spec)  # installed meanwhile
    QApplication.sendEvent(panel.export_button, QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))
    assert panel.export_button.isEnabled()  # the pointer on it was enough
    offered = []
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda parent, title, start, *a: offered.append(start) or ("", "")
    )
    panel.export_button.click()
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    assert offered == [str(Path(documents) / "Ink wash.onnx")]  # the model's name, not its folder's


def test_show_in_file_manager_says_where_the_folder_is_when_no_file_manager_opens(make_window, qtbot, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    entry = ModelLibrary().create("Charcoal", {"family": "pix2pix"}, state="paused")
    window = make_window()
    panel = window.models_panel
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 1, timeout=10_000)
    panel.tree.topLevelItem(0).setSelected(True)
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)  # no file manager on this desktop
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text, *a: shown.append(text))
    panel.reveal_button.click()
    assert len(shown) == 1 and str(entry.path) in shown[0]
