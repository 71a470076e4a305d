import os
import subprocess
import sys
import time
import uuid

from tiny import paired_report

from gan_studio.single_instance import InstanceServer, hand_over, server_name


def test_a_second_launch_hands_its_folder_to_the_first(qapp, qtbot):
    name = f"gan-studio-test-{uuid.uuid4().hex[:8]}"
    assert not hand_over(name, None)  # nobody there: this launch opens its own window
    server = InstanceServer(name)
    received = []
    server.activated.connect(received.append)
    assert hand_over(name, "/photos/trip")
    assert hand_over(name, None)
    qtbot.waitUntil(lambda: received == ["/photos/trip", None], timeout=5_000)


def test_libraries_are_told_apart():
    assert server_name("/home/a/models") != server_name("/home/b/models")


def test_the_window_comes_forward_and_opens_the_folder(make_window, qtbot, tmp_path):
    window = make_window()
    report = paired_report(tmp_path / "data")
    with qtbot.waitSignal(window.dataset_panel.opened, timeout=30_000):
        window.bring_forward(str(report.root))
    assert window.tabs.currentWidget() is window.dataset_panel and window.isVisible()


def test_a_real_second_launch_ends_at_once(tmp_path):
    """Two real processes on one library: the second hands over its folder and exits 0."""
    env = {**os.environ, "GAN_STUDIO_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen"}
    log = tmp_path / "first.log"
    with open(log, "w") as out:
        first = subprocess.Popen([sys.executable, "-m", "gan_studio"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and "engine ready" not in log.read_text():
            time.sleep(0.2)  # it listens for other launches before its window exists
        second = subprocess.run(
            [sys.executable, "-m", "gan_studio", str(tmp_path)], env=env, capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 0 and "already open" in second.stdout, second.stdout + second.stderr
    finally:
        first.terminate()
        first.wait(timeout=60)
    assert first.returncode == 0, log.read_text()
