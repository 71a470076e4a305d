"""Before Qt starts on Linux/X11: are the system libraries its xcb plugin needs there?

Without them Qt prints a hint about one library and aborts the process. We
ask the dynamic linker first (``ldd`` on the plugin), and name every missing
library with the Debian/Ubuntu package and the command that installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

# Debian/Ubuntu packages of the libraries that Qt's xcb platform plugin loads (PySide6 ships the rest).
PACKAGES = {
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}
# Qt loads this one at run time, so ldd does not list it; Qt 6.5 and later refuse to start without it.
LOADED_AT_RUN_TIME = ("libxcb-cursor.so.0",)
APT_LINE = "sudo apt install " + " ".join(sorted(set(PACKAGES.values()) - {"libopengl0"}))


def uses_xcb() -> bool:
    """Qt will pick its xcb (X11) plugin: Linux, a display, and no other platform asked for."""
    if not sys.platform.startswith("linux"):
        return False
    wanted = os.environ.get("QT_QPA_PLATFORM", "")
    if wanted:
        return wanted.startswith("xcb")
    return bool(os.environ.get("DISPLAY")) and not os.environ.get("WAYLAND_DISPLAY")


def _plugin_files() -> list[Path]:
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    return [p for p in (qt / "plugins" / "platforms" / "libqxcb.so", qt / "lib" / "libQt6XcbQpa.so.6") if p.exists()]


def _ldd(path: Path) -> str:
    ldd = shutil.which("ldd")
    if not ldd:
        return ""
    try:
        return subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _loadable(soname: str) -> bool:
    import ctypes

    try:
        ctypes.CDLL(soname)
        return True
    except OSError:
        return False


def missing_libraries() -> list[str]:
    """The shared libraries Qt's xcb plugin needs that the dynamic linker cannot find (sonames)."""
    missing = set()
    for path in _plugin_files():
        for line in _ldd(path).splitlines():
            if "=> not found" in line:
                missing.add(line.split("=>")[0].strip())
    missing.update(soname for soname in LOADED_AT_RUN_TIME if not _loadable(soname))
    return sorted(missing)


def explain(missing: list[str]) -> str:
    packages = sorted({PACKAGES.get(soname, soname) for soname in missing})
    return (
        "GAN Studio cannot open its window: Qt's X11 (xcb) support needs system libraries that are not "
        f"installed: {', '.join(missing)}.\n"
        f"On Debian or Ubuntu install them with:\n    sudo apt install {' '.join(packages)}\n"
        f"(everything the window needs on a bare system: {APT_LINE})"
    )
