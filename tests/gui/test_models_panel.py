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
    from training_core.models.reference_import import import_reference

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
