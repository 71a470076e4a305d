import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gan_studio import APP_ID
from gan_studio.assets import resource_path
from gan_studio.desktop_entry import ICON_SIZES, install_linux, linux_files, uninstall_linux

ROOT = Path(__file__).resolve().parents[2]


def _tool(name):
    if shutil.which(name) is None:
        pytest.skip(f"{name} is not installed (.ci/run installs it)")
    return name


def test_one_application_id_everywhere(qapp):
    from gan_studio.app import create_application

    desktop = resource_path(f"{APP_ID}.desktop")
    metainfo = ET.parse(resource_path(f"{APP_ID}.metainfo.xml")).getroot()
    assert desktop.exists() and metainfo.findtext("id") == APP_ID
    assert metainfo.find("launchable").text == f"{APP_ID}.desktop"
    assert f"Icon={APP_ID}" in desktop.read_text()
    assert create_application().desktopFileName() == APP_ID
    for size in ICON_SIZES:
        from PIL import Image

        assert Image.open(resource_path(f"icons/gan-studio-{size}.png")).size == (size, size)


def test_desktop_entry_and_metainfo_validate(tmp_path):
    subprocess.run([_tool("desktop-file-validate"), str(resource_path(f"{APP_ID}.desktop"))], check=True)
    installed = install_linux(tmp_path, launcher=Path("/opt/GAN Studio/bin/gan-studio"))
    subprocess.run(["desktop-file-validate", str(installed[0])], check=True)  # with a quoted Exec path
    result = subprocess.run(
        [_tool("appstreamcli"), "validate", "--no-net", str(resource_path(f"{APP_ID}.metainfo.xml"))],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_install_and_uninstall_into_an_xdg_data_home(tmp_path):
    launcher = tmp_path / "venv" / "bin" / "gan-studio"
    models = tmp_path / "GAN Studio" / "models" / "my-model"
    models.mkdir(parents=True)
    (models / "model.json").write_text("{}")
    written = install_linux(tmp_path, launcher=launcher)
    expected = set(linux_files(tmp_path))
    assert set(written) == expected and all(p.is_file() and p.stat().st_size > 0 for p in expected)
    entry = (tmp_path / "applications" / f"{APP_ID}.desktop").read_text()
    assert f"Exec={launcher} %F" in entry and f"TryExec={launcher}" in entry
    assert (tmp_path / "icons" / "hicolor" / "256x256" / "apps" / f"{APP_ID}.png").exists()
    assert (tmp_path / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").exists()
    removed = uninstall_linux(tmp_path)
    assert set(removed) == expected and not any(p.exists() for p in expected)
    assert (models / "model.json").exists()  # the user's models stay


def test_self_test_passes_offscreen(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gan_studio", "--self-test"], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self-test passed" in result.stdout and "ok   translate" in result.stdout


def test_version():
    result = subprocess.run(
        [sys.executable, "-m", "gan_studio", "--version"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0 and result.stdout.startswith("GAN Studio ")


def test_the_desktop_entry_claims_no_folder_handling():
    """Claiming inode/directory made GAN Studio the default folder opener: 'Show in File Manager' then
    started a second GAN Studio instead of the user's file manager."""
    import configparser

    entry = configparser.ConfigParser(interpolation=None)
    entry.read(resource_path(f"{APP_ID}.desktop"), encoding="utf-8")
    mime_types = entry["Desktop Entry"].get("MimeType", "")
    assert "inode/directory" not in mime_types


def test_missing_window_libraries_are_named_with_the_command_that_installs_them(monkeypatch, capsys, tmp_path):
    """A bare system: Qt would abort; the app says what to install and exits 1 (simulated missing library)."""
    from gan_studio import app, qt_libraries

    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(qt_libraries, "_plugin_files", lambda: [tmp_path / "libqxcb.so"])
    monkeypatch.setattr(
        qt_libraries,
        "_ldd",
        lambda path: "\tlibxcb-icccm.so.4 => not found\n\tlibxcb1.so.1 => /usr/lib/libxcb.so.1 (0x1)\n",
    )
    monkeypatch.setattr(qt_libraries, "_loadable", lambda soname: soname != "libxcb-cursor.so.0")
    assert app.main([]) == 1
    err = capsys.readouterr().err
    assert "not installed: libxcb-cursor.so.0, libxcb-icccm.so.4." in err
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4\n" in err


def test_the_readme_gives_every_package_the_window_needs():
    from gan_studio.qt_libraries import APT_LINE

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert APT_LINE in readme
