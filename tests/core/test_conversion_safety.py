"""Conversion never loses an artist's files: the same folder under another path, edited photos,
another model's outputs, and each run's report.

Each test reproduces a case of issue 30 that lost or hid files before it was fixed.
"""

import hashlib
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from training_core.config import ConvertConfig
from training_core.convert.batch import LOCK_NAME, BatchError, BatchJob
from training_core.convert.translator import TranslateOptions, Translator
from training_core.models.networks import define_G

ROOT = os.name == "posix" and os.geteuid() == 0


def _translator(seed=0, **options):
    torch.manual_seed(seed)
    return Translator(define_G(3, 3, 4, "resnet_1blocks", "instance"), 4, options=TranslateOptions(tile=512, **options))


def _img(path, w=40, h=30, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)).save(path)
    return path


def _sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _details(report):
    return {Path(f.input).name: (f.status, f.detail) for f in report.files}


# -- the input folder under another path -------------------------------------------------------------


@pytest.fixture
def bind_mounted(tmp_path):
    """``/…/in`` and ``/…/same-folder``: one folder under two paths, as a bind mount or a
    case-insensitive volume (exFAT's DCIM and dcim) gives it."""
    if not ROOT:
        pytest.skip("a bind mount needs root")
    src, alias = tmp_path / "in", tmp_path / "same-folder"
    src.mkdir()
    alias.mkdir()
    if subprocess.run(["mount", "--bind", str(src), str(alias)], capture_output=True).returncode:
        pytest.skip("cannot bind-mount here")
    yield src, alias
    subprocess.run(
        ["umount", "--lazy", str(alias)], capture_output=True
    )  # lazy: a failed test may hold a file open there


@pytest.mark.parametrize("skip_existing", [True, False])
def test_the_input_folder_under_another_path_is_refused_before_anything_is_written(bind_mounted, skip_existing):
    src, alias = bind_mounted
    photos = [_img(src / "a.jpg"), _img(src / "b.png", seed=1)]
    before = {p.name: _sha(p) for p in photos}
    with pytest.raises(BatchError, match="is the input folder"):
        BatchJob(_translator(), src, alias, ConvertConfig(skip_existing=skip_existing))
    assert {p.name: _sha(p) for p in photos} == before
    assert sorted(p.name for p in src.iterdir()) == ["a.jpg", "b.png"]  # no lock, ledger or report


def test_an_output_folder_inside_the_input_under_another_path_is_refused_when_recursive(bind_mounted):
    src, alias = bind_mounted
    _img(src / "a.jpg")
    with pytest.raises(BatchError, match="inside the input folder"):
        BatchJob(_translator(), src, alias / "converted", ConvertConfig(recursive=True))
    assert not (src / "converted").exists()


def test_the_input_inside_the_output_under_another_path_is_refused(bind_mounted, tmp_path):
    src, alias = bind_mounted
    _img(src / "holiday" / "a.jpg")
    with pytest.raises(BatchError, match="inside the output folder"):
        BatchJob(_translator(), alias / "holiday", src, ConvertConfig())


def test_an_output_file_that_is_an_input_under_another_name_is_refused(tmp_path):
    """A hard link in the output folder is the same file as the photo: comparing paths misses it."""
    src, dst = tmp_path / "in", tmp_path / "out"
    photo = _img(src / "a.png")
    dst.mkdir()
    os.link(photo, dst / "a.png")
    before = _sha(photo)
    report = BatchJob(_translator(), src, dst, ConvertConfig(skip_existing=False)).run()
    status, detail = _details(report)["a.png"]
    assert status == "failed" and "input photo" in detail
    assert _sha(photo) == before


# -- an edited photo ---------------------------------------------------------------------------------


def test_a_photo_edited_in_place_is_converted_again_and_the_report_says_why(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "a.png", seed=1)
    _img(src / "b.png", seed=2)
    BatchJob(_translator(), src, dst, ConvertConfig()).run()
    first = _sha(dst / "a.png")
    stat = os.stat(src / "a.png")
    _img(src / "a.png", seed=3)  # new pixels, same name and size
    os.utime(src / "a.png", ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and even its old time
    report = BatchJob(_translator(), src, dst, ConvertConfig()).run()
    details = _details(report)
    assert details["a.png"] == ("converted", "redone: the photo changed")
    assert details["b.png"][0] == "skipped"
    assert _sha(dst / "a.png") != first


def test_a_photo_touched_but_not_changed_is_still_skipped(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "a.png")
    BatchJob(_translator(), src, dst, ConvertConfig()).run()
    later = time.time() + 100
    os.utime(src / "a.png", (later, later))
    report = BatchJob(_translator(), src, dst, ConvertConfig()).run()
    assert _details(report)["a.png"][0] == "skipped"


# -- another model's outputs -------------------------------------------------------------------------


def test_another_models_outputs_are_kept_and_the_new_ones_go_to_a_folder_of_their_own(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "a.png")
    _img(src / "b.png", seed=1)
    BatchJob(_translator(0), src, dst, ConvertConfig(), model_name="ink", model_id="ink").run()
    kept = {name: _sha(dst / name) for name in ("a.png", "b.png")}
    job = BatchJob(_translator(1), src, dst, ConvertConfig(), model_name="watercolour", model_id="watercolour")
    assert job.output_dir == dst / "watercolour"
    assert "ink" in job.moved_aside
    report = job.run()
    assert report.counts() == {"converted": 2}
    assert {name: _sha(dst / name) for name in kept} == kept
    assert (dst / "watercolour" / "a.png").is_file()
    again = BatchJob(_translator(1), src, dst, ConvertConfig(), model_name="watercolour", model_id="watercolour")
    assert again.output_dir == dst / "watercolour" and again.run().counts() == {"skipped": 2}


def test_another_models_outputs_are_replaced_only_when_asked(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "a.png")
    BatchJob(_translator(0), src, dst, ConvertConfig(), model_name="ink", model_id="ink").run()
    config = ConvertConfig(other_model_outputs="replace")
    report = BatchJob(_translator(1), src, dst, config, model_name="wash", model_id="wash").run()
    assert _details(report)["a.png"] == ("converted", "redone: made with another model (ink)")


def test_asking_refuses_a_folder_with_another_models_outputs_and_names_it(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "a.png")
    BatchJob(_translator(0), src, dst, ConvertConfig(), model_name="ink", model_id="ink").run()
    with pytest.raises(BatchError, match=r"1 result of the model ink"):
        BatchJob(_translator(1), src, dst, ConvertConfig(other_model_outputs="ask"), model_id="wash")


def test_the_reason_for_redoing_names_what_changed(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "a.png")
    BatchJob(_translator(0), src, dst, ConvertConfig(), model_id="ink").run()
    report = BatchJob(_translator(0), src, dst, ConvertConfig(), model_id="ink").run()
    assert _details(report)["a.png"] == ("skipped", "already converted with this model and these settings")
    report = BatchJob(_translator(0), src, dst, ConvertConfig(quality=80), model_id="ink").run()
    assert _details(report)["a.png"] == ("converted", "redone: the setting quality changed (95 → 80)")
    running = ConvertConfig(quality=80)
    report = BatchJob(_translator(0, norm="running"), src, dst, running, model_id="ink").run()
    assert _details(report)["a.png"] == ("converted", "redone: the setting norm changed (image → running)")
    report = BatchJob(_translator(5, norm="running"), src, dst, running, model_id="ink").run()
    assert _details(report)["a.png"] == ("converted", "redone: the model's weights changed (trained further)")


# -- reports and the lock ----------------------------------------------------------------------------


def test_every_run_keeps_its_own_dated_report_and_the_lock_goes_with_the_job(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "a.png")
    BatchJob(_translator(), src, dst, ConvertConfig(), model_name="ink").run()
    BatchJob(_translator(), src, dst, ConvertConfig(skip_existing=False), model_name="ink").run()
    reports = sorted((dst / "gan-studio-reports").glob("*.txt"))
    assert len(reports) == 2
    assert "1 converted" in reports[0].read_text() and "(1 redone)" in reports[1].read_text()
    assert (dst / "gan-studio-report.txt").read_text() == reports[1].read_text()  # the newest, at hand
    assert not (dst / LOCK_NAME).exists()


def test_a_lock_file_removed_by_a_finishing_job_never_lets_two_jobs_in(tmp_path, monkeypatch):
    """A job that opened the lock file just before the holder removed it must not lock the orphan."""
    from training_core import runlock
    from training_core.convert.batch import _OutputFolderLock

    dst = tmp_path / "out"
    first = _OutputFolderLock(dst / LOCK_NAME, "first").acquire()
    real_try_lock, calls = runlock._try_lock, []

    def first_finishes_meanwhile(fd):
        calls.append(fd)
        if len(calls) == 1:
            first.release()  # removes the file the second job has open
        return real_try_lock(fd)

    monkeypatch.setattr(runlock, "_try_lock", first_finishes_meanwhile)
    second = _OutputFolderLock(dst / LOCK_NAME, "second").acquire()
    monkeypatch.setattr(runlock, "_try_lock", real_try_lock)
    with pytest.raises(BatchError, match="another conversion"):
        _OutputFolderLock(dst / LOCK_NAME, "third").acquire()
    second.release()
    assert not (dst / LOCK_NAME).exists()


# -- the command line --------------------------------------------------------------------------------


@pytest.fixture
def two_models(tmp_path):
    from reference_nets import ResnetGenerator, get_norm_layer, randomize

    from training_core.cli_models import models_main

    for seed, name in enumerate(("ink", "wash")):
        torch.manual_seed(seed)
        net = randomize(ResnetGenerator(3, 3, 8, get_norm_layer("instance"), n_blocks=1))
        torch.save(net.state_dict(), tmp_path / f"{name}.pth")
        assert models_main(["import", str(tmp_path / f"{name}.pth"), "--name", name]) == 0


def test_the_command_lines_defaults_are_the_apps():
    """The app converts with ConvertConfig()'s values; the CLI must too, or each redoes the other's work."""
    from training_core.cli_convert import _parser
    from training_core.convert.settings import config_from_args

    args = _parser().parse_args(["--model", "m", "--input", "in", "--output", "out"])
    assert config_from_args(args) == ConvertConfig()
    changed = _parser().parse_args(
        ["--model", "m", "--input", "i", "--output", "o", "--tile", "512", "--overwrite-outputs"]
    )
    assert config_from_args(changed) == ConvertConfig(tile=512, skip_existing=False)


def test_converting_with_another_model_from_the_command_line_keeps_the_first_models_results(
    tmp_path, two_models, caplog
):
    from training_core.cli_convert import convert_main

    caplog.set_level("INFO")
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "a.png")
    assert convert_main(["--model", "ink", "--input", str(src), "--output", str(dst)]) == 0
    kept = _sha(dst / "a.png")
    assert convert_main(["--model", "wash", "--input", str(src), "--output", str(dst)]) == 0
    assert _sha(dst / "a.png") == kept and (dst / "wash" / "a.png").is_file()
    assert "results of another model (ink (1)), which are kept" in caplog.text
    args = ["--model", "wash", "--input", str(src), "--output", str(dst), "--other-model-outputs", "ask"]
    assert convert_main(args) == 2
    assert "1 result of the model ink" in caplog.text


def test_a_read_only_output_folder_is_one_message_and_exit_1(tmp_path, two_models, caplog):
    from faults import tmpfs

    from training_core.cli_convert import convert_main

    _img(tmp_path / "in" / "a.png")
    with tmpfs(tmp_path / "readonly", read_only=True) as dst:
        assert convert_main(["--model", "ink", "--input", str(tmp_path / "in"), "--output", str(dst)]) == 1
    assert "not writable" in caplog.text and "Traceback" not in caplog.text


def test_an_input_that_is_a_file_is_named_as_such(tmp_path, two_models, caplog):
    from training_core.cli_convert import convert_main

    photo = _img(tmp_path / "a.png")
    assert convert_main(["--model", "ink", "--input", str(photo), "--output", str(tmp_path / "out")]) == 2
    assert "is a file: choose the folder that holds the photos" in caplog.text


def test_running_out_of_memory_on_one_photo_says_what_to_do_and_the_others_convert(tmp_path, monkeypatch):
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "big.png", seed=1)
    _img(src / "small.png", seed=2)
    translator = _translator()
    real = translator.translate

    def short_of_memory(image):
        if image.size == (40, 30) and not hasattr(short_of_memory, "done"):
            short_of_memory.done = True
            raise MemoryError()
        return real(image)

    monkeypatch.setattr(translator, "translate", short_of_memory)
    report = BatchJob(translator, src, dst, ConvertConfig()).run()
    failed = [f for f in report.files if f.status == "failed"]
    assert len(failed) == 1 and failed[0].detail.startswith("not enough memory for this photo: choose smaller tiles")
    assert report.counts()["converted"] == 1


@pytest.mark.skipif(os.name != "posix", reason="signals to a real process")
def test_ctrl_c_twice_stops_at_once_with_one_message_and_only_whole_outputs(tmp_path):
    import signal
    import sys

    from reference_nets import ResnetGenerator, get_norm_layer, randomize

    from training_core.cli_models import models_main

    net = randomize(ResnetGenerator(3, 3, 16, get_norm_layer("instance"), n_blocks=3))
    torch.save(net.state_dict(), tmp_path / "slow.pth")
    assert models_main(["import", str(tmp_path / "slow.pth"), "--name", "slow"]) == 0
    src, dst = tmp_path / "in", tmp_path / "out"
    for i in range(30):
        _img(src / f"{i:03d}.png", 300, 300, seed=i)
    cli = "import sys; from training_core.cli_convert import convert_main; sys.exit(convert_main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", cli, "--model", "slow", "--input", str(src), "--output", str(dst), "--device", "cpu"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(dst.glob("0*.png")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)  # the second press, a moment after the first
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=30)
    err = proc.stderr.read().decode()
    assert code == 130, err
    assert "Traceback" not in err
    for output in dst.glob("*.png"):
        Image.open(output).load()  # every visible output is whole
    assert len(list(src.iterdir())) == 30


def test_a_ctrl_c_that_no_handler_of_the_program_takes_exits_130_without_a_traceback():
    """Python's own handler raises KeyboardInterrupt where nothing catches it, and the program dies by
    signal (exit -2 to its caller) with a traceback: every command-line program ends with 130 instead.
    (CI saw the -2 above: a second press landed after the cancelled job, during the interpreter's exit.)"""
    import sys

    late_press = (
        "import os, signal, sys\n"
        "from training_core.cli_common import quiet_exits\n"
        "def main(argv):\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"  # no handler of main's is installed any more
        "    return 0\n"
        "sys.exit(quiet_exits(main)())\n"
    )
    done = subprocess.run([sys.executable, "-c", late_press], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (130, "")
