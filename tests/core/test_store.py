import json
import shutil
import subprocess

import pytest

from training_core.errors import GanStudioError
from training_core.runlock import RunLock
from training_core.store import LibraryError, ModelLibrary, ModelNotFound, data_home


def _library(tmp_path):
    return ModelLibrary(tmp_path / "models")


def test_data_home_follows_gan_studio_home(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_HOME", str(tmp_path / "elsewhere"))
    assert data_home() == tmp_path / "elsewhere"
    assert ModelLibrary().root == tmp_path / "elsewhere" / "models"


def test_create_list_get_rename_delete(tmp_path):
    lib = _library(tmp_path)
    a = lib.create("Ink to Paint", {"family": "pix2pix"})
    b = lib.create("ink/to paint?", {"family": "cyclegan"})  # same slug, different name
    assert a.id == "ink-to-paint" and b.id == "ink-to-paint-2"
    assert {e.name for e in lib.list()} == {"Ink to Paint", "ink/to paint?"}
    assert lib.get("ink to paint").id == a.id  # by name, case-insensitive
    assert lib.get("ink-to-paint-2").name == "ink/to paint?"  # by id
    lib.rename("Ink to Paint", "Watercolour")
    assert lib.get("watercolour").path == a.path  # renaming never moves files
    with pytest.raises(LibraryError, match="already exists"):
        lib.rename("watercolour", "INK/TO PAINT?")
    with pytest.raises(LibraryError, match="already exists"):
        lib.create("Watercolour", {"family": "pix2pix"})
    lib.delete("watercolour")
    assert not a.path.exists() and [e.name for e in lib.list()] == ["ink/to paint?"]
    with pytest.raises(ModelNotFound, match="no model named 'watercolour'.*ink/to paint"):
        lib.get("watercolour")


def test_run_states(tmp_path):
    lib = _library(tmp_path)
    entry = lib.create("m", {"family": "pix2pix"})
    assert entry.state == "new"
    lib.update(entry, state="running")
    assert lib.get("m").state == "interrupted"  # says running, but no process holds the lock
    with RunLock(entry.run_dir):
        assert lib.get("m").state == "running"
        with pytest.raises(GanStudioError, match="training right now"):
            lib.delete("m")
    for saved, shown in (("paused", "paused"), ("stopped", "paused"), ("failed", "failed"),
                         ("garbage", "interrupted"), ("finished", "finished")):
        lib.update(entry, state=saved)
        assert lib.get("m").state == shown


def test_broken_model_folders_are_skipped_not_fatal(tmp_path, caplog):
    lib = _library(tmp_path)
    lib.create("good", {"family": "pix2pix"})
    (lib.root / "no-json").mkdir()
    (lib.root / "bad-json").mkdir()
    (lib.root / "bad-json" / "model.json").write_text("{not json")
    (lib.root / "wrong").mkdir()
    (lib.root / "wrong" / "model.json").write_text(json.dumps([1, 2]))
    assert [e.name for e in lib.list()] == ["good"]
    assert "model.json is missing" in caplog.text and "cannot be read" in caplog.text


def test_model_json_is_written_atomically(tmp_path):
    lib = _library(tmp_path)
    entry = lib.create("m", {"family": "pix2pix"})
    lib.update(entry, iterations=5)
    assert json.loads((entry.path / "model.json").read_text())["iterations"] == 5
    assert not [p for p in entry.path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("key", ["..", ".", "../models", "/", ""])
def test_no_name_reaches_outside_the_library(tmp_path, key):
    """A stray model.json above the library once let `delete .. --yes` wipe every model."""
    home = tmp_path / "home"
    library = ModelLibrary(home / "models")
    library.create("keep me", {"family": "pix2pix"})
    (home / "model.json").write_text('{"family": "pix2pix", "name": "stray"}')
    with pytest.raises(ModelNotFound):
        library.delete(key)
    assert [e.name for e in library.list()] == ["keep me"]


@pytest.mark.skipif(not shutil.which("sh"), reason="needs a POSIX shell")
@pytest.mark.parametrize("name", ['b"; touch X; "', "$(touch X)", "it's `touch X`", "a\nb; touch X"])
def test_the_printed_resume_command_is_safe_to_paste(tmp_path, name):
    from training_core.cli import resume_command

    command = resume_command(name).replace("gan-studio-train --resume", "printf %s")
    pasted = subprocess.run(["sh", "-c", command], cwd=tmp_path, capture_output=True, text=True)
    assert pasted.stdout == name and not (tmp_path / "X").exists()


def test_list_and_show_say_the_same_state(tmp_path, capsys):
    from training_core.cli_models import models_main

    library = ModelLibrary()
    entry = library.create("m", {"family": "pix2pix"})
    for saved, said in (("stopped", "paused"), ("failed", "failed"), ("running", "interrupted")):
        library.update(entry, state=saved)
        assert models_main(["list"]) == 0
        listed = capsys.readouterr().out
        assert models_main(["show", "m"]) == 0
        shown = json.loads(capsys.readouterr().out)["state"]
        assert shown == said and f" {said} " in listed
