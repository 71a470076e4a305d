import pytest

from gan_studio.main_window import MainWindow
from gan_studio.settings import open_settings

TINY_SETTINGS = {"netG": "unet_32", "ngf": 8, "ndf": 8, "size": 32, "sample_every": 2, "checkpoint_every": 1000}


@pytest.fixture
def make_window(qtbot):
    """Main windows that load the engine as the app does, and are shut down cleanly after the test."""
    windows = []

    def make(wait_for_engine: bool = True) -> MainWindow:
        window = MainWindow(open_settings())
        qtbot.addWidget(window)
        window.show()
        window.start_engine_loading()
        if wait_for_engine:
            qtbot.waitUntil(lambda: window.train_panel.engine_ready, timeout=60_000)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown_training()


def set_tiny(panel, iterations: int) -> None:
    """Tiny networks through the real Advanced widgets, so a run takes a second."""
    adv = panel.advanced
    adv.netG.setCurrentText(TINY_SETTINGS["netG"])
    adv.ngf.setValue(TINY_SETTINGS["ngf"])
    adv.ndf.setValue(TINY_SETTINGS["ndf"])
    adv.size.setValue(TINY_SETTINGS["size"])
    adv.sample_every.setValue(TINY_SETTINGS["sample_every"])
    adv.checkpoint_every.setValue(TINY_SETTINGS["checkpoint_every"])
    adv.device.setCurrentText("cpu")
    panel.iterations.setValue(iterations)
