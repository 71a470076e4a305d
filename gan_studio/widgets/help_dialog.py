"""Help → Using GAN Studio: the README's "Using the app", shipped with the package (resources/)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from ..assets import resource_path

HELP_FILE = "using-the-app.md"  # the README's section without its pictures; a test keeps the two alike


class HelpDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Using GAN Studio")
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        try:
            self.text.setMarkdown(resource_path(HELP_FILE).read_text(encoding="utf-8"))
        except OSError as exc:  # FileNotFoundError says to reinstall
            self.text.setPlainText(f"The help text cannot be read: {exc}")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(760, 620)
