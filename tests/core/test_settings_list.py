"""The one list of settings: configs, presets and the CLI all derive from it, and it loads no torch."""

import dataclasses
import json
import subprocess
import sys

import pytest

from training_core import options
from training_core.cli import _overrides, _train_parser
from training_core.config import DataConfig, TrainConfig
from training_core.errors import ConfigError
from training_core.families import FAMILIES, NAMES
from training_core.families import family as family_of
from training_core.presets import PRESETS, defaults, resolve

NOT_SETTINGS = {"input_nc", "output_nc"}  # fixed by the data (RGB), not chosen by a user
SECTIONS = {"data": DataConfig, "train": TrainConfig}


@pytest.mark.parametrize(
    "module",
    [
        "training_core.config",
        "training_core.presets",
        "training_core.options",
        "training_core.cli_models",
        "training_core.families",
    ],
)
def test_settings_and_configuration_load_without_torch(module):
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_models_list_runs_without_torch():
    code = (
        "import sys; from training_core.cli_models import models_main; rc = models_main(['list']); "
        "print(rc, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "0 False"


@pytest.mark.parametrize("family", NAMES)
def test_every_config_field_is_a_setting_of_its_family_and_no_setting_is_orphaned(family):
    classes = {"model": family_of(family).config, **SECTIONS}
    fields = {(section, f.name) for section, cls in classes.items() for f in dataclasses.fields(cls)}
    fields = {(section, name) for section, name in fields if name not in NOT_SETTINGS}
    listed = {(s.section, s.name) for s in options.for_family(family)}
    assert listed == fields


def test_the_cli_offers_exactly_the_settings():
    parser = _train_parser()
    dests = {a.dest for a in parser._actions}
    assert {s.name for s in options.SETTINGS} <= dests
    not_settings = dests - {s.name for s in options.SETTINGS}
    assert not_settings == {
        "help",
        "data_dir",
        "data",
        "demo",
        "resume",
        "restart",
        "name",
        "family",
        "preset",
        "device",
        "leave_core_for_ui",
    }
    help_text = parser.format_help()
    for setting in options.SETTINGS:
        assert setting.flag in help_text


# A value other than every preset's for each setting, for each type.
def _other_value(setting, family):
    current = defaults(family)[setting.name]
    if setting.type is bool:
        return not current
    if setting.choices:
        return next(c for c in setting.choices if c != current)
    if setting.name == "netG":
        return "unet_64" if family == "pix2pix" else "resnet_3blocks"
    if setting.type is int:
        return int(setting.high) if current != setting.high else int(setting.high) - 1
    return round((setting.low + setting.high) / 2 if setting.high < 100 else setting.high / 3, 3)


@pytest.mark.parametrize("family", NAMES)
def test_each_setting_given_on_the_command_line_reaches_its_config(family):
    settings = [s for s in options.for_family(family) if s.name not in ("crop_size", "load_size", "preprocess")]
    argv = ["--family", family]
    wanted = {}
    for s in settings:
        value = _other_value(s, family)
        wanted[s.name] = value
        if s.type is bool:
            argv.append(s.flag if value else "--no-" + s.flag[2:])
        else:
            argv += [s.flag, str(value)]
    args = _train_parser().parse_args(argv)
    assert _overrides(args) == wanted
    # The values are each valid alone; the configs take them all (crop sizes are checked separately).
    model, data, train = resolve(family, "quick", 10, {**wanted, "netD": "pixel"} if "netD" in wanted else wanted)
    configs = {"model": model, "data": data, "train": train}
    for s in settings:
        if s.name != "netD":
            assert getattr(configs[s.section], s.name) == wanted[s.name], s.name


def test_size_is_the_crop_size_and_scales_the_load_size_by_the_presets_ratio():
    args = _train_parser().parse_args(["--size", "256"])
    assert _overrides(args) == {"crop_size": 256}
    _, data, _ = resolve("pix2pix", "quick", 10, _overrides(args))
    assert (data.crop_size, data.load_size) == (256, round(256 * 143 / 128))
    _, data, _ = resolve("pix2pix", "quick", 10, {"crop_size": 256, "load_size": 300})
    assert data.load_size == 300


def test_a_setting_of_the_other_family_is_refused_by_name():
    with pytest.raises(ConfigError, match="pool_size do\\(es\\) not apply to pix2pix"):
        resolve("pix2pix", "quick", 10, {"pool_size": 10})
    with pytest.raises(ConfigError, match="unknown setting.*colour"):
        resolve("pix2pix", "quick", 10, {"colour": 1})


@pytest.mark.parametrize("setting", [s for s in options.SETTINGS if s.type in (int, float)], ids=lambda s: s.name)
def test_numbers_outside_their_range_are_refused_naming_the_setting(setting):
    family = (setting.families or NAMES)[0]
    too_high = setting.high + (1 if setting.type is int else 0.5) if setting.high is not None else None
    too_low = setting.low - (1 if setting.type is int else 0.5) if setting.low is not None else None
    for value in (too_high, too_low):
        if value is None:
            continue
        others = {"load_size": 286, "preprocess": "crop"} if setting.name == "crop_size" else {}
        with pytest.raises(ConfigError, match=f"^{setting.name} must be"):
            resolve(family, "quick", 10, {setting.name: setting.type(value), **others})


def test_presets_name_only_settings():
    for preset in PRESETS.values():
        for part in ("data", "train"):
            assert set(preset[part]) <= set(options.BY_NAME), part
    for fam in FAMILIES.values():
        assert set(fam.presets) <= set(PRESETS), fam.name
        for preset, values in fam.presets.items():  # each a setting of the family's own
            assert all(options.BY_NAME[name].applies_to(fam.name) for name in values), (fam.name, preset)


def test_model_json_of_0_1_still_reads(tmp_path):
    """Existing model folders keep working: a 0.1 record's configs load through the new list."""
    from training_core.record import read_record

    record = read_record(
        {
            "name": "old",
            "family": "pix2pix",
            "state": "stopped",
            "model": {"family": "pix2pix", "netG": "unet_128", "ngf": 32, "ndf": 32},
            "data": {"preprocess": "resize_and_crop", "load_size": 143, "crop_size": 128, "flip": True},
            "train": {"iterations": 2000, "lr_policy": "linear", "sample_every": 100},
        }
    )
    assert record.state == "paused"
    assert record.model_config().netG == "unet_128"
    assert record.train_config().plateau_patience == 5
    json.dumps(record.to_dict())


PAPERS = {
    "upsample": "transpose",
    "diff_augment": "none",
    "num_D": 1,
    "spectral_norm": False,
    "ema_decay": 0.0,
    "lr": 2e-4,
}


@pytest.mark.parametrize("family", ["pix2pix", "cyclegan"])
def test_the_paper_preset_keeps_the_papers_configuration(family):
    model, _, _ = resolve(family, "paper", 100)
    assert {k: getattr(model, k) for k in PAPERS} == PAPERS
    assert getattr(model, "lambda_feat", 0.0) == 0.0 and getattr(model, "lambda_ssim", 0.0) == 0.0


@pytest.mark.parametrize("preset", ["quick", "high"])
def test_the_other_presets_train_pix2pix_with_the_measured_best_options(preset):
    """bench/quality.py: free of checkerboard and lower held-out L1 on a small dataset (bench/README.md)."""
    model, _, _ = resolve("pix2pix", preset, 100)
    assert model.upsample == "resize"
    assert model.diff_augment == "color,translation,cutout"
    assert model.lr == 4e-4
    assert model.lambda_ssim == 100.0
    # Settings given by name still win over the preset's, so the papers' recipe stays one choice away.
    papers = {"upsample": "transpose", "diff_augment": "none", "lr": 2e-4, "lambda_ssim": 0.0}
    model, _, _ = resolve("pix2pix", preset, 100, papers)
    assert {k: getattr(model, k) for k in papers} == papers
    # CycleGAN is not measured yet: the papers' configuration.
    model, _, _ = resolve("cyclegan", preset, 100)
    assert {k: getattr(model, k) for k in PAPERS} == PAPERS


def test_a_preset_counted_in_epochs_runs_that_many_epochs_of_the_plan_and_a_given_length_wins(tmp_path):
    from tiny import paired_report

    from training_core.store import ModelLibrary
    from training_core.train.runs import create

    report = paired_report(tmp_path / "data", train=12, val=0)  # 12 pairs: one is held out, 11 train
    library = ModelLibrary(tmp_path / "models")
    entry = create(report, "paper", "pix2pix", "paper", {"batch_size": 2}, library)
    assert entry.record.dataset["train"] == 11
    assert entry.record.total_iterations == 200 * 6  # the paper's 200 epochs of ceil(11 / 2) batches
    assert resolve("pix2pix", "paper", 11, {"batch_size": 2})[2].iterations == 1200
    given = create(report, "given", "pix2pix", "paper", {"batch_size": 2, "iterations": 7}, library)
    assert given.record.total_iterations == 7
    assert create(report, "quick", "pix2pix", "quick", {}, library).record.total_iterations == 2000  # not in epochs
