import os
import subprocess
import sys
import time
import uuid

import pytest
from tiny import paired_report

from gan_studio.single_instance import LOCK_NAME, InstanceServer, claim_library, hand_over, server_name


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


# A launch that has imported the app and made its QApplication, says so, and waits for a starting
# signal (a file appearing): several then reach the single-instance check at the same moment, not a
# Python start-up apart, which is how a double-click or a desktop session's restore launches them.
LAUNCH_ON_SIGNAL = """
import os, sys, time
import qasync, gan_studio.main_window, gan_studio.quit_signals, gan_studio.settings, gan_studio.single_instance
from gan_studio.app import create_application, main
create_application()
print("ready", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.001)
sys.exit(main(sys.argv[2:]))
"""


LAUNCHES = 8  # on two cores, two of three launches collide now and then; eight collide most times


def _launch(env, log_path, go, *args):
    with open(log_path, "w") as out:
        return subprocess.Popen(
            [sys.executable, "-c", LAUNCH_ON_SIGNAL, str(go), *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )


@pytest.mark.slow  # about 20 s: eight app start-ups on two cores
def test_launches_at_the_same_moment_leave_one_window(tmp_path):
    """Real processes started together: one keeps the library's window, the others hand over and exit 0."""
    env = {**os.environ, "GAN_STUDIO_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen"}
    logs = [tmp_path / f"launch-{i}.log" for i in range(LAUNCHES)]
    go = tmp_path / "go"
    launches = [_launch(env, log, go, str(tmp_path)) for log in logs]
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not all("ready" in log.read_text() for log in logs):
            time.sleep(0.05)
        go.touch()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            alive = [i for i, p in enumerate(launches) if p.poll() is None]
            windows = [i for i in alive if "engine ready" in logs[i].read_text()]
            if len(alive) == 1 or (len(alive) > 1 and windows == alive):
                break  # settled: one window, or (the failure) several full windows
            time.sleep(0.2)
        alive = [i for i, p in enumerate(launches) if p.poll() is None]
        report = "\n".join(f"--- launch {i}:\n{log.read_text()}" for i, log in enumerate(logs))
        assert len(alive) == 1, report
        for i, launch in enumerate(launches):
            if i not in alive:
                assert launch.returncode == 0 and "already open" in logs[i].read_text(), report
    finally:
        for launch in launches:
            if launch.poll() is None:
                launch.terminate()
        for launch in launches:
            try:
                launch.wait(timeout=60)
            except subprocess.TimeoutExpired:  # a window still loading PyTorch on a busy machine
                launch.kill()
                launch.wait(timeout=30)


def test_a_crashed_window_leaves_nothing_that_blocks_the_next_launch(qapp, qtbot, tmp_path):
    """A window killed with SIGKILL leaves its socket file and its lock file; the next launch is the window."""
    home = tmp_path / "home"
    crashed = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from PySide6.QtCore import QCoreApplication\n"
            "from gan_studio.single_instance import claim_library\n"
            "app = QCoreApplication([])\n"
            f"server = claim_library({str(home)!r}, None)\n"
            "print('listening', flush=True)\n"
            "time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert crashed.stdout.readline().strip() == "listening"
    crashed.kill()
    crashed.wait(timeout=30)
    assert (home / LOCK_NAME).exists()

    started = time.monotonic()
    server = claim_library(home, None)
    assert server is not None and server.server.isListening()
    assert time.monotonic() - started < 5  # no waiting for a winner that is dead
    received = []
    server.activated.connect(received.append)
    assert claim_library(home, "/photos") is None  # and it is the window now: a later launch hands over
    qtbot.waitUntil(lambda: received == ["/photos"], timeout=5_000)
    server.close()
