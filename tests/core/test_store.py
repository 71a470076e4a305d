import json
import os
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
    for saved, shown in (("paused", "paused"), ("stopped", "paused"), ("failed", "failed"), ("finished", "finished")):
        lib.update(entry, state=saved)
        assert lib.get("m").state == shown


def test_broken_model_folders_are_listed_as_damaged_not_fatal(tmp_path, caplog):
    lib = _library(tmp_path)
    lib.create("good", {"family": "pix2pix"})
    (lib.root / "no-json").mkdir()
    (lib.root / "bad-json").mkdir()
    (lib.root / "bad-json" / "model.json").write_text("{not json")
    (lib.root / "wrong").mkdir()
    (lib.root / "wrong" / "model.json").write_text(json.dumps([1, 2]))
    entries = {e.id: e for e in lib.list()}
    assert entries["good"].state == "new"
    assert {k: e.state for k, e in entries.items() if k != "good"} == dict.fromkeys(
        ("no-json", "bad-json", "wrong"), "damaged"
    )
    assert entries["no-json"].damage == "model.json is missing"
    assert "not valid" in entries["bad-json"].damage and "list, not an object" in entries["wrong"].damage
    lib.delete("bad-json")  # the one thing a damaged model allows
    assert "bad-json" not in {e.id for e in lib.list()}


def _good_record(lib):
    return json.loads((lib.create("template", {"family": "pix2pix"}).path / "model.json").read_text())


@pytest.mark.parametrize(
    "change,reason",
    [
        ({"updated": 5}, '"updated" is 5, not text'),
        ({"name": None}, '"name" is None, not text'),
        ({"state": []}, '"state" is [], not text'),
        ({"state": "dancing"}, "\"state\" is 'dancing', not one of"),
        ({"inference": "x"}, "\"inference\" is 'x', not an object"),
        ({"data": [1, 2]}, '"data" is [1, 2], not an object'),
        ({"iterations": -3}, '"iterations" is negative'),
        ({"family": "stylegan"}, "\"family\" is 'stylegan'"),
        ({"model": {"ngf": 4096}}, r"ngf must be in \[1, 256\], got 4096"),
        ({"format_version": 99}, "newer GAN Studio"),
    ],
)
def test_one_malformed_record_is_named_and_every_other_model_works(tmp_path, capsys, change, reason):
    from training_core.cli_convert import convert_main
    from training_core.cli_models import models_main

    lib = ModelLibrary()
    raw = _good_record(lib)
    lib.delete("template")
    lib.create("fine", {"family": "pix2pix"})
    bad = lib.root / "bad"
    bad.mkdir()
    (bad / "model.json").write_text(json.dumps({**raw, "name": "bad", **change}))
    assert models_main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "fine" in listing and "damaged" in listing and reason.replace("\\", "") in listing
    assert models_main(["rename", "fine", "finer"]) == 0
    assert models_main(["show", "finer"]) == 0
    capsys.readouterr()
    assert models_main(["show", "bad"]) == 2  # said plainly, no traceback
    assert convert_main(["--model", "bad", "--input", str(tmp_path), "--output", str(tmp_path / "o")]) == 2
    assert models_main(["delete", "bad", "--yes"]) == 0


def test_an_imported_model_cannot_be_resumed_and_says_why(tmp_path, caplog):
    from training_core.cli import train_main

    lib = ModelLibrary()
    lib.create("imported", {"family": "pix2pix", "imported": {"from": ["x.pth"]}})
    assert train_main(["--resume", "imported"]) == 2
    assert "imported, not trained here" in caplog.text


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
        capsys.readouterr()
        assert models_main(["show", "m", "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)["state"]
        assert shown == said and f" {said} " in listed


def test_a_model_json_of_gan_studio_0_1_opens_and_keeps_what_it_held(tmp_path):
    """A checked-in record of format 1 (0.1 wrote "stopped" for a paused run); written back in format 2,
    with the direction and the run length once, in the settings, and every other field as it was."""
    from pathlib import Path

    lib = ModelLibrary()
    folder = lib.root / "outlines"
    folder.mkdir(parents=True)
    original = json.loads((Path(__file__).parent / "data" / "model-0.1.json").read_text())
    (folder / "model.json").write_text(json.dumps(original))
    (entry,) = lib.list()
    r = entry.record
    assert (entry.name, entry.state, r.iterations, r.total_iterations) == ("Outlines", "paused", 2, 4)
    assert r.model_config().netG == "unet_32" and r.train_config().iterations == 4 and r.inference_norm == "image"
    lib.update(entry, iterations=3)
    written = json.loads((folder / "model.json").read_text())
    assert written["written_by_a_later_version"] == {"kept": True}  # fields it does not know survive
    changed = ("iterations", "updated", "state", "format_version", "direction", "total_iterations")
    assert {k: v for k, v in written.items() if k not in changed} == {
        k: v for k, v in original.items() if k not in changed
    }
    assert written["state"] == "paused" and written["iterations"] == 3 and written["format_version"] == 2
    assert "direction" not in written and "total_iterations" not in written
    assert (written["data"]["direction"], written["train"]["iterations"]) == ("AtoB", 4)


# Format 1, as GAN Studio 0.1 and 0.2 before this format wrote it: the direction and the run length
# both at the top level and in the settings. Written out here so that the test cannot drift with the code.
FORMAT_1 = """{
  "format_version": 1, "name": "Night", "family": "pix2pix", "state": "paused",
  "created": "2026-11-30T21:02:11+00:00", "updated": "2026-11-30T22:40:05+00:00", "preset": "standard",
  "direction": "BtoA", "iterations": 1500, "total_iterations": 6000, "progress": 1520,
  "model": {"family": "pix2pix", "netG": "unet_64", "ngf": 16},
  "data": {"crop_size": 64, "load_size": 72, "direction": "BtoA"},
  "train": {"iterations": 6000, "checkpoint_every": 500},
  "dataset": {"root": "/home/artist/night", "layout": "aligned", "train": 40},
  "metrics": {}, "inference": {}
}"""


def test_a_format_1_record_gives_the_same_values_and_is_written_once_in_format_2(tmp_path):
    lib = _library(tmp_path)
    (lib.root / "night").mkdir(parents=True)
    (lib.root / "night" / "model.json").write_text(FORMAT_1)
    entry = lib.get("Night")
    r = entry.record
    assert (r.direction, r.total_iterations, r.iterations, r.progress) == ("BtoA", 6000, 1500, 1520)
    assert r.train_config().iterations == 6000 and r.data_config().direction == "BtoA"
    assert entry.can_resume and r.format_version == 2
    lib.update(entry, iterations=2000)
    written = json.loads((entry.path / "model.json").read_text())
    assert written["format_version"] == 2 and "direction" not in written and "total_iterations" not in written
    again = lib.get("Night").record
    assert (again.direction, again.total_iterations, again.iterations) == ("BtoA", 6000, 2000)


@pytest.mark.parametrize(
    "top,settings,expected",
    [
        # Only at the top level (a record a script made): it fills the settings.
        ({"direction": "BtoA", "total_iterations": 300}, {"data": {}, "train": {}}, ("BtoA", 300)),
        # Both, disagreeing (edited by hand): the settings, which training read, win.
        (
            {"direction": "BtoA", "total_iterations": 300},
            {"data": {"direction": "AtoB"}, "train": {"iterations": 9}},
            ("AtoB", 9),
        ),
        # An imported model: no training settings, so no run length.
        ({"direction": "AtoB", "total_iterations": 0}, {"train": None}, ("AtoB", 0)),
    ],
)
def test_format_1_duplicates_fold_into_the_settings(tmp_path, top, settings, expected):
    lib = _library(tmp_path)
    (lib.root / "m").mkdir(parents=True)
    record = {"format_version": 1, "name": "m", "family": "pix2pix", **top, **settings}
    (lib.root / "m" / "model.json").write_text(json.dumps(record))
    r = lib.get("m").require()
    assert (r.direction, r.total_iterations) == expected


def test_a_record_of_format_1_with_a_bad_direction_is_damaged_and_says_which_field(tmp_path):
    lib = _library(tmp_path)
    (lib.root / "m").mkdir(parents=True)
    (lib.root / "m" / "model.json").write_text(
        json.dumps({"format_version": 1, "name": "m", "family": "pix2pix", "direction": "AB"})
    )
    (entry,) = lib.list()
    assert entry.state == "damaged" and "direction 'AB'" in entry.damage


def test_only_resumable_models_can_resume(tmp_path):
    """One definition, which the CLI's show, the Train tab's card and the Models tab ask."""
    lib = _library(tmp_path)
    trained = lib.create("trained", {"family": "pix2pix", "train": {}})
    for state, resumable in (
        ("new", False),
        ("paused", True),
        ("failed", True),
        ("finished", False),
        ("running", True),
    ):
        lib.update(trained, state=state)
        assert lib.get("trained").can_resume == resumable  # "running" with no process: interrupted
    with RunLock(trained.run_dir):
        assert not lib.get("trained").can_resume  # running for real
    imported = lib.create("imported", {"family": "pix2pix", "imported": {"from": ["g.pth"]}}, state="paused")
    assert not imported.can_resume  # no training settings to continue from


def test_show_json_still_gives_the_direction_and_length_at_the_top_level(tmp_path, capsys):
    """Scripts written against format 1's output read them there; they come from the settings now."""
    from training_core.cli_models import models_main

    lib = ModelLibrary()
    lib.create("m", {"family": "pix2pix", "data": {"direction": "BtoA"}, "train": {"iterations": 77}})
    assert models_main(["show", "m", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["direction"], shown["total_iterations"], shown["format_version"]) == ("BtoA", 77, 2)
    assert "direction" not in json.loads((lib.get("m").path / "model.json").read_text())  # stored once


def test_update_refuses_a_field_the_record_does_not_have(tmp_path):
    lib = _library(tmp_path)
    entry = lib.create("m", {"family": "pix2pix", "train": {}})
    with pytest.raises(TypeError, match="total_iterations"):
        lib.update(entry, total_iterations=5)
    assert "total_iterations" not in json.loads((entry.path / "model.json").read_text())


# -- hostile model.json files (issue 30): each breaks its own model, never the library ----------------


def _beside_a_good_model(lib, folder_name="bad"):
    lib.create("fine", {"family": "pix2pix"})
    bad = lib.root / folder_name
    bad.mkdir()
    return bad / "model.json"


def _deep(path):
    path.write_text("[" * 100_000 + "]" * 100_000)


def _fifo(path):
    os.mkfifo(path)


def _link_to_dev_zero(path):
    path.symlink_to("/dev/zero")


def _huge(path):
    with open(path, "wb") as f:  # a sparse file: 64 MB to read, nothing on the disk
        f.truncate(64 << 20)


def _folder(path):
    path.mkdir()


@pytest.mark.skipif(os.name != "posix", reason="POSIX pipes and links")
@pytest.mark.parametrize(
    "make,reason",
    [
        (_deep, "nested too deeply"),
        (_fifo, "not a regular file (a named pipe)"),
        (_link_to_dev_zero, "not a regular file (a character device)"),
        (_huge, "larger than"),
        (_folder, "not a regular file (a folder)"),
    ],
)
def test_a_hostile_model_json_is_one_damaged_model_in_the_cli_and_conversion(tmp_path, capsys, caplog, make, reason):
    from training_core.cli_convert import convert_main
    from training_core.cli_models import models_main

    lib = ModelLibrary()
    make(_beside_a_good_model(lib))
    entries = {e.id: e for e in lib.list()}  # a pipe would block here, /dev/zero would fill the memory
    assert entries["fine"].state == "new"
    assert entries["bad"].state == "damaged" and reason in entries["bad"].damage
    assert models_main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "fine" in listing and reason in listing
    assert models_main(["show", "fine"]) == 0
    assert models_main(["show", "bad"]) == 2
    assert "is damaged" in caplog.text and reason in caplog.text
    assert convert_main(["--model", "bad", "--input", str(tmp_path), "--output", str(tmp_path / "o")]) == 2
    assert models_main(["delete", "bad", "--yes"]) == 0
    assert [e.id for e in lib.list()] == ["fine"]


def test_a_model_json_within_the_bound_still_opens(tmp_path):
    """Long notes kept by another version are fine: the bound is far above any real record."""
    lib = _library(tmp_path)
    entry = lib.create("m", {"family": "pix2pix"})
    raw = json.loads((entry.path / "model.json").read_text())
    (entry.path / "model.json").write_text(json.dumps({**raw, "notes": "x" * 500_000}))
    assert lib.get("m").record.extra["notes"] == "x" * 500_000


def test_two_models_with_one_name_are_ambiguous_and_named_by_folder(tmp_path):
    lib = _library(tmp_path)
    first = lib.create("Ink Drawing", {"family": "pix2pix"})
    second = lib.create("other", {"family": "pix2pix"})
    raw = json.loads((second.path / "model.json").read_text())
    (second.path / "model.json").write_text(json.dumps({**raw, "name": "INK drawing"}))  # edited by hand
    with pytest.raises(ModelNotFound, match="ambiguous") as caught:
        lib.get("ink drawing")
    message = str(caught.value)
    assert "ink-drawing, other" in message and "by its folder" in message and "no model named" not in message
    assert lib.get(first.id).name == "Ink Drawing" and lib.get(second.id).name == "INK drawing"  # ids still work
    with pytest.raises(LibraryError, match="already exists"):
        lib.rename(second.id, "Ink drawing")  # names that differ only in case stay refused
    lib.rename(second.id, "Ink drawing 2")
    assert lib.get("ink drawing").id == first.id


@pytest.mark.parametrize("taken,asked", [("Ink", "INK"), ("Straße", "STRASSE"), ("ink", " Ink ")])
def test_a_name_that_differs_only_in_case_is_taken(tmp_path, taken, asked):
    lib = _library(tmp_path)
    lib.create(taken, {"family": "pix2pix"})
    other = lib.create("other", {"family": "pix2pix"})
    with pytest.raises(LibraryError, match="already exists"):
        lib.create(asked, {"family": "pix2pix"})
    with pytest.raises(LibraryError, match="already exists"):
        lib.rename(other.id, asked)
    with pytest.raises(LibraryError, match="already exists"):
        lib.update(other, name=asked)
    assert sorted(e.name for e in lib.list()) == sorted([taken, "other"])


@pytest.mark.parametrize("val", [[1, 2], "0.5", 3, {"psnr": "high", "ssim": 0.5, "l1": 2}])
def test_show_tells_a_model_whose_scores_are_not_numbers(tmp_path, capsys, val):
    from training_core.cli_models import models_main

    lib = ModelLibrary()
    entry = lib.create("m", {"family": "pix2pix"})
    lib.update(entry, metrics={"val": val})
    assert models_main(["show", "m"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("m  (pix2pix, new)")
    if isinstance(val, dict):
        assert "ssim 0.5" in out and "l1 2" in out and "psnr" not in out


@pytest.mark.skipif(os.name != "posix", reason="POSIX pipes")
@pytest.mark.parametrize("command", [["list"], ["show", "--json", "m"], ["show", "m"]])
def test_output_into_a_closed_pipe_ends_quietly(tmp_path, command):
    """`gan-studio-models list | head` ended in a BrokenPipeError traceback once head had read enough."""
    import sys

    lib = ModelLibrary()
    for i in range(3):
        lib.create("m" if i == 0 else f"m{i}", {"family": "pix2pix"})
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before the first line is written: like head after its lines
    code = "import sys; from training_core.cli_models import models_main; sys.exit(models_main(sys.argv[1:]))"
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, *command], stdout=writer, stderr=subprocess.PIPE, text=True, timeout=60
        )
    finally:
        os.close(writer)
    assert done.stderr == "" and done.returncode == 1


def test_the_record_says_which_generators_an_export_can_ask_for(tmp_path):
    """The Models tab offers these directions to export; pix2pix trained B to A still holds one "AtoB" net."""
    lib = _library(tmp_path)
    assert lib.create("c", {"family": "cyclegan"}).record.generator_directions == ("AtoB", "BtoA")
    assert lib.create("p", {"family": "pix2pix", "data": {"direction": "BtoA"}}).record.generator_directions == (
        "AtoB",
    )


def test_automatic_names_count_up_per_base_so_a_new_user_can_tell_them_apart(tmp_path):
    """Names that differed only by the minute ("people 2026-12-02 04.37" and "… 04.39") told nobody anything."""
    lib = _library(tmp_path)
    first = lib.new_name("people-outlines")
    assert first == "people-outlines 1"
    lib.create(first, {"family": "pix2pix"})
    assert lib.new_name("people-outlines") == "people-outlines 2"
    lib.create("PEOPLE-OUTLINES 7", {"family": "pix2pix"})  # renamed by hand, in capitals: still counts
    lib.create("people 9", {"family": "pix2pix"})  # another base, and names that only begin like one
    lib.create("people-outlines 8b", {"family": "pix2pix"})
    assert lib.new_name("people-outlines") == "people-outlines 8"
    assert lib.new_name(" people ") == "people 10"
    lib.delete("people-outlines 1")
    assert lib.new_name("people-outlines") == "people-outlines 8"  # the highest is still 7: never an older one's
    assert lib.new_name("a+b (x)") == "a+b (x) 1"  # the base is text, not a pattern
    assert lib.new_name("  ") == "model 1"
