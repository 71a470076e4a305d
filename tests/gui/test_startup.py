"""The window comes up before the engine: building it loads Qt and the engine's settings, never torch."""

import subprocess
import sys

CODE = """
import os, sys, tempfile
os.environ["GAN_STUDIO_HOME"] = tempfile.mkdtemp()
from gan_studio.app import create_application
from gan_studio.main_window import MainWindow
from gan_studio.settings import open_settings
app = create_application([])
window = MainWindow(open_settings())
window.show()
app.processEvents()
print("torch" in sys.modules, window.train_panel.setup.advanced.editor("gan_mode").count())
"""


def test_the_window_is_built_without_loading_torch():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split()[-2:] == ["False", "3"]  # and its settings are there, from the engine's list
