"""Start-menu integration: ``gan-studio --install-desktop-entry`` / ``--uninstall-desktop-entry``.

Linux: the freedesktop entry, AppStream metainfo and hicolor icons under the
XDG data home, pointing at this environment's ``gan-studio`` launcher.
Windows: a Start Menu shortcut to the windowed launcher. macOS: menus list
app bundles, so this explains how to build one. Uninstalling removes only
these files, never the user's models.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from training_core.store import data_home

from . import APP_ID, APP_NAME
from .assets import resource_path

ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)


def launcher_path() -> Path:
    """The installed ``gan-studio`` launcher of the running environment (a venv's bin/ or Scripts/)."""
    folder = Path(sys.executable).parent
    for name in ("gan-studio", "gan-studio.exe"):
        if (folder / name).exists():
            return folder / name
    found = shutil.which("gan-studio")
    if found:
        return Path(found)
    raise FileNotFoundError("the gan-studio launcher was not found: install GAN Studio with pip first")


def _xdg_data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def linux_files(data_home: Path) -> dict[Path, Path | None]:
    """Destination -> source (None: generated) of every file the Linux install writes."""
    files: dict[Path, Path | None] = {
        data_home / "applications" / f"{APP_ID}.desktop": None,
        data_home / "metainfo" / f"{APP_ID}.metainfo.xml": resource_path(f"{APP_ID}.metainfo.xml"),
        data_home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg": resource_path("icons/gan-studio.svg"),
    }
    for size in ICON_SIZES:
        files[data_home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"] = resource_path(
            f"icons/gan-studio-{size}.png"
        )
    return files


def _desktop_exec(path: Path) -> str:
    text = str(path)
    if any(c in text for c in ' \t"`$\\'):  # the desktop entry spec's quoting
        text = '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$") + '"'
    return text


def desktop_entry_text(launcher: Path) -> str:
    template = resource_path(f"{APP_ID}.desktop").read_text(encoding="utf-8")
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = f"Exec={_desktop_exec(launcher)} %F"
        elif line.startswith("TryExec="):
            line = f"TryExec={launcher}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _refresh_caches(data_home: Path) -> None:
    # Optional helpers: menus pick the entry up without them, just later.
    for command in (
        ["update-desktop-database", str(data_home / "applications")],
        ["gtk-update-icon-cache", "-f", "-t", str(data_home / "icons" / "hicolor")],
    ):
        if shutil.which(command[0]):
            subprocess.run(command, capture_output=True, check=False)


def install_linux(data_home: Path | None = None, launcher: Path | None = None) -> list[Path]:
    data_home = data_home or _xdg_data_home()
    launcher = launcher or launcher_path()
    written = []
    for destination, source in linux_files(data_home).items():
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source is None:
            destination.write_text(desktop_entry_text(launcher), encoding="utf-8")
        else:
            shutil.copyfile(source, destination)
        written.append(destination)
    _refresh_caches(data_home)
    return written


def uninstall_linux(data_home: Path | None = None) -> list[Path]:
    data_home = data_home or _xdg_data_home()
    removed = []
    for destination in linux_files(data_home):
        if destination.exists():
            destination.unlink()
            removed.append(destination)
    _refresh_caches(data_home)
    return removed


def _windows_shortcut() -> Path:
    return Path(os.environ["APPDATA"]) / "Microsoft" / "Windows" / "Start Menu" / "Programs" / f"{APP_NAME}.lnk"


def install_windows() -> list[Path]:
    from PIL import Image

    launcher = launcher_path()
    icon = data_home() / "gan-studio.ico"
    icon.parent.mkdir(parents=True, exist_ok=True)
    Image.open(resource_path("icons/gan-studio-256.png")).save(icon, sizes=[(s, s) for s in (16, 32, 48, 64, 256)])
    shortcut = _windows_shortcut()

    def quoted(value) -> str:  # a PowerShell single-quoted string (O'Brien's folder too)
        return "'" + str(value).replace("'", "''") + "'"

    script = (
        f"$s = (New-Object -ComObject WScript.Shell).CreateShortcut({quoted(shortcut)}); "
        f"$s.TargetPath = {quoted(launcher)}; $s.IconLocation = {quoted(icon)}; "
        f"$s.Description = {quoted(APP_NAME)}; $s.Save()"
    )
    subprocess.run(["powershell", "-NoProfile", "-NonInteractive", "-Command", script], check=True)
    return [shortcut, icon]


def install(argv_report=print) -> int:
    if sys.platform.startswith("linux"):
        files = install_linux()
        argv_report(f"{APP_NAME} is in the application menu now ({len(files)} files under {_xdg_data_home()}).")
    elif sys.platform == "win32":
        files = install_windows()
        argv_report(f"Start Menu shortcut created: {files[0]}")
    else:
        argv_report(MACOS_HELP)
    return 0


def uninstall(argv_report=print) -> int:
    if sys.platform.startswith("linux"):
        removed = uninstall_linux()
        argv_report(f"Removed {len(removed)} files; your models are untouched.")
    elif sys.platform == "win32":
        shortcut = _windows_shortcut()
        shortcut.unlink(missing_ok=True)
        argv_report(f"Removed {shortcut}; your models are untouched.")
    else:
        argv_report(MACOS_HELP)
    return 0


MACOS_HELP = (
    "On macOS, applications appear in Launchpad and the Dock as app bundles. Build GAN Studio.app "
    "with PyInstaller (see packaging/README.md) and drag it into /Applications."
)
