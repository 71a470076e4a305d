from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_folder_ships():
    """pyproject lists packages explicitly (resources/ is mapped in); a forgotten one would not install."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("training_core", "gan_studio")
        for p in (ROOT / top).rglob("__init__.py")
    }
    # resources/ has no __init__.py; each of its data folders is a package to setuptools all the same
    found |= {"gan_studio.resources." + p.name for p in (ROOT / "resources").iterdir() if p.is_dir()}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert config["package-dir"]["gan_studio.resources"] == "resources"
    assert (ROOT / "resources" / "icons" / "gan-studio.svg").exists()


def test_a_wheel_builds_without_setuptools_warnings_and_ships_the_icons(tmp_path):
    """setuptools warned that gan_studio.resources.icons "is absent from the packages configuration"
    at every install: a data folder it would one day stop shipping."""
    import shutil
    import subprocess
    import sys
    import zipfile

    pytest.importorskip("setuptools")
    pytest.importorskip("wheel")
    source = tmp_path / "source"  # a copy, so the build's egg-info and build/ never land in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("training_core", "gan_studio", "resources"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-v", "-w", "dist"],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = built.stdout + built.stderr
    assert built.returncode == 0, log[-2000:]
    assert "absent from the `packages`" not in log and "_Warning" not in log, log[-4000:]
    (wheel,) = (source / "dist").glob("gan_studio-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    icons = {p.name for p in (ROOT / "resources" / "icons").iterdir()}
    assert {f"gan_studio/resources/icons/{name}" for name in icons} <= shipped
    assert "gan_studio/resources/io.github.ganstudio.GANStudio.desktop" in shipped
    assert "gan_studio/resources/using-the-app.md" in shipped  # Help → Using GAN Studio


def test_ci_installs_the_lint_tools_pyproject_pins():
    """.ci/run's lint environment is made without installing the project (that would fetch torch): it
    names the tools itself. Its pins and the lint extra's must stay one list, or CI checks with other
    versions than a developer's ``pip install ".[lint]"``."""
    import re
    import shlex

    pinned = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["lint"]
    script = (ROOT / ".ci" / "run").read_text()
    (install,) = re.findall(r'^"\$lint_env/bin/pip" install -q (.+)$', script, flags=re.MULTILINE)
    assert shlex.split(install) == pinned
    assert all(re.fullmatch(r"[a-z-]+>=[0-9.]+,<[0-9.]+", requirement) for requirement in pinned)  # ranges
    for tool in ("ruff", "lint-imports", "mypy"):
        assert f'"$lint_env/bin/{tool}"' in script
