"""The guards bite: each targeted break of the code is caught by the tests written to catch it.

Each case copies the engine and the tests into a temporary folder, makes one exact edit to the
source (it must match once, so a refactoring that moves the code fails here and asks for the
mutation to be updated) and runs the guarding tests there in a subprocess: they must FAIL.
"""

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Mutation:
    file: str
    old: str
    new: str
    guards: tuple[str, ...]  # the tests (pytest node ids, -k selections) that must catch it


TRANSLATOR = "training_core/convert/translator.py"
TILES = "tests/core/test_translator.py::"

MUTATIONS = {
    "the checkpoint's random state is not restored": Mutation(
        "training_core/train/run_state.py",
        '    rng.restore(state["rng"])\n',
        "",
        (
            "tests/core/test_trainer.py::test_resumed_run_is_bit_identical_to_an_uninterrupted_one[pix2pix-overrides0-paired_report]",
            "tests/core/test_options.py::test_each_optimizer_trains_and_resumes_bit_exactly[rmsprop-adam]",
            "tests/core/test_crash_resume.py::test_sigkill_during_training_resumes_from_the_last_checkpoint",
        ),
    ),
    "CycleGAN's held-out round trip replaced by the image itself": Mutation(
        "training_core/families/cyclegan.py",
        "        yield from zip(_round_trip(model, images, domain)[1], images)\n",
        "        yield from zip(images, images)\n",
        (
            "tests/core/test_trainer.py::test_cyclegan_held_out_scores_are_those_of_the_round_trip_by_hand",
            "tests/core/test_cli.py::test_a_cyclegan_run_logs_its_held_out_round_trip_scores",
            "tests/gui/test_training_panel.py::test_a_cyclegan_run_shows_its_held_out_round_trip_scores",
        ),
    ),
    "tiles averaged flat instead of feathered": Mutation(
        TRANSLATOR,
        "    ramp = torch.ones(length)\n    if overlap > 0:\n",
        "    ramp = torch.ones(length)\n    if overlap < 0:\n",
        (TILES + "test_overlapping_tiles_cross_fade_continuously_without_a_step",),
    ),
    "a tile's start not ramped": Mutation(
        TRANSLATOR,
        "        if not at_start:\n            ramp[:overlap] = edge\n",
        "",
        (TILES + "test_overlapping_tiles_cross_fade_continuously_without_a_step",),
    ),
    "the first tile's start ramped down at the image's edge": Mutation(
        TRANSLATOR,
        "        if not at_start:\n",
        "        if True:\n",
        (TILES + "test_the_image_edges_take_the_outer_tiles_at_full_weight",),
    ),
    "tiles normalised with a downscaled copy's statistics": Mutation(
        TRANSLATOR,
        "        factor = min(1.0, self._stats_side / math.sqrt(h * w))\n",
        "        factor = min(1.0, self.tile / math.sqrt(h * w))\n",
        (TILES + "test_tiled_and_untiled_outputs_of_a_trained_model_agree_within_the_stated_tolerance",),
    ),
    "skip existing ignores whether the photo changed": Mutation(
        "training_core/convert/batch.py",
        "        if source is not None and not source.matches(src):\n",
        "        if False:\n",
        (
            "tests/core/test_conversion_safety.py::test_a_photo_edited_in_place_is_converted_again_and_the_report_says_why",
        ),
    ),
    "a photo's content hash is not compared": Mutation(
        "training_core/convert/source_state.py",
        "            return content_hash(path) == self.hash\n",
        "            return True\n",
        (
            "tests/core/test_conversion_safety.py::test_a_photo_edited_in_place_is_converted_again_and_the_report_says_why",
        ),
    ),
}


def _copy_of_the_repository(folder: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in ("training_core", "gan_studio", "resources", "tests"):
        shutil.copytree(REPO / name, folder / name, ignore=ignore)
    shutil.copy2(REPO / "pyproject.toml", folder / "pyproject.toml")  # pytest's markers and options
    return folder


def _run_guards(copy: Path, guards: tuple[str, ...]) -> subprocess.CompletedProcess:
    # The copy's engine first on the path, ahead of the installed (editable) one; and in every
    # process the tests start.
    env = dict(os.environ, PYTHONPATH=str(copy), QT_QPA_PLATFORM="offscreen")
    command = [sys.executable, "-m", "pytest", "-q", "-rf", "-p", "no:cacheprovider", *guards]
    return subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=240)


@pytest.mark.parametrize("name", MUTATIONS)
def test_each_broken_guarantee_is_caught_by_its_tests(tmp_path, name):
    mutation = MUTATIONS[name]
    copy = _copy_of_the_repository(tmp_path)
    source = copy / mutation.file
    text = source.read_text()
    assert text.count(mutation.old) == 1, f"the mutation no longer matches {mutation.file}: update it"
    source.write_text(text.replace(mutation.old, mutation.new))
    result = _run_guards(copy, mutation.guards)
    # Exit code 1: tests ran and failed (2 to 5: errors, nothing collected). Every guard must fail,
    # each on its own: one catching it is not proof that the others would.
    assert result.returncode == 1, result.stdout[-4000:] + result.stderr[-2000:]
    failed = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("FAILED ")]
    missed = [guard for guard in mutation.guards if not any(node.startswith(guard) for node in failed)]
    assert not missed, f"{name}: these tests still pass: {missed}"
