"""Every registered family, by the same tests: a new family gets them by being registered.

Each is built from its own config, trains, previews, scores its held-out images, and resumes
bit-exactly; its facts agree with its model class and with the layout rules.
"""

import math
import re

import pytest
import torch
from fresh_random import scramble_global_random_state
from tiny import paired_report, unpaired_report

from training_core.errors import ConfigError
from training_core.families import FAMILIES, NAMES, PAIRED, UNPAIRED, families_for_layout, family, family_for_layout
from training_core.models.base import GANModel
from training_core.presets import defaults, resolve
from training_core.store import ModelLibrary
from training_core.train.control import TrainingControl
from training_core.train.events import Finished, SampleImages, StepMetrics, ValidationMetrics
from training_core.train.plan import make_plan
from training_core.train.trainer import Trainer

LAYOUTS = ("aligned", "paired", "unpaired")


def tiny(name: str) -> dict:
    """Small networks at 32 px for the family: its own kind of generator, at its smallest."""
    netG = "unet_32" if defaults(name)["netG"].startswith("unet") else "resnet_1blocks"
    settings = dict(netG=netG, ngf=8, ndf=8, preprocess="crop", crop_size=32, sample_every=4, preview_count=2)
    if "pool_size" in defaults(name):
        settings["pool_size"] = 3
    return settings


def report_for(name: str, folder):
    """Data of the family's kind, with held-out images (twenty per domain hold two out each: a one-way
    family scores only those of its target domain)."""
    return paired_report(folder) if FAMILIES[name].data == PAIRED else unpaired_report(folder, count=20)


@pytest.mark.parametrize("name", NAMES)
def test_a_familys_facts_agree_with_its_config_and_model(name):
    fam = FAMILIES[name]
    assert fam.name == name and fam.config.family == name
    model = fam.model_class()
    assert issubclass(model, GANModel)
    assert model.directions == fam.directions  # what conversion and export may ask of its weights
    assert fam.data in (PAIRED, UNPAIRED)
    assert fam.layouts and set(fam.usual_for) <= set(fam.layouts) <= set(LAYOUTS)
    assert "{count}" in fam.held_out and fam.columns.count("|") >= 1
    assert all(text.strip() for text in (fam.title, fam.label, fam.about, fam.needs, fam.held_out_brief))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_layout_has_its_usual_family_first_and_only_families_that_train_on_it(layout):
    fits = families_for_layout(layout)
    assert fits and fits[0] == family_for_layout(layout)
    assert layout in FAMILIES[fits[0]].usual_for
    assert set(fits) == {f.name for f in FAMILIES.values() if layout in f.layouts}


def test_the_usual_families_are_pix2pix_for_pairs_and_cyclegan_for_two_folders():
    assert family_for_layout("aligned") == family_for_layout("paired") == "pix2pix"
    assert family_for_layout("unpaired") == "cyclegan"


def test_an_unknown_family_is_refused_naming_the_known_ones():
    with pytest.raises(ConfigError, match="'stylegan' is not known: choose one of " + ", ".join(NAMES)):
        family("stylegan")


@pytest.mark.parametrize("name", NAMES)
def test_a_family_refuses_data_of_a_layout_it_does_not_train_on_and_says_which_would(tmp_path, name):
    fam = FAMILIES[name]
    other = paired_report(tmp_path / "p") if fam.data == UNPAIRED else unpaired_report(tmp_path / "u")
    if other.layout in fam.layouts:
        pytest.skip(f"{name} trains on every layout made here")
    _, _, train_cfg = resolve(name)
    said = f"^{re.escape(f'{fam.title} needs {fam.needs}, but ')}.* is {other.layout}; choose "
    with pytest.raises(ConfigError, match=said):
        make_plan(other, name, train_cfg)


@pytest.mark.parametrize("name", NAMES)
def test_every_family_trains_previews_scores_held_out_images_and_resumes_bit_exactly(tmp_path, name):
    fam = FAMILIES[name]
    report = report_for(name, tmp_path / "data")
    library = ModelLibrary(tmp_path / "models")
    settings = dict(tiny(name), iterations=8, batch_size=2, checkpoint_every=100)
    events = []
    straight = Trainer.create(
        report, "straight", family=name, overrides=settings, library=library, on_event=events.append, device="cpu"
    )
    assert isinstance(straight.run(), Finished)

    strips = [e for e in events if isinstance(e, SampleImages)]
    assert [e.iteration for e in strips] == [4, 8]
    columns = fam.columns.count("|") + 1
    assert strips[-1].strip.size == (32 * columns, 32 * 2)  # a row per preview image, a column per picture
    scores = [e for e in events if isinstance(e, ValidationMetrics)]
    assert [e.iteration for e in scores] == [4, 8]
    assert all(e.kind == fam.held_out_kind and e.count >= 2 for e in scores)
    assert all(math.isfinite(v) for e in scores for v in (e.l1, e.psnr, e.ssim))
    assert 0 < scores[-1].l1 < 2  # images in [-1, 1]: neither a copy nor nonsense

    control = TrainingControl()

    def stop_at_5(event):
        if isinstance(event, StepMetrics) and event.iteration == 5:
            control.stop()

    first = Trainer.create(
        report,
        "halves",
        family=name,
        overrides=settings,
        library=library,
        control=control,
        on_event=stop_at_5,
        device="cpu",
    )
    assert first.run().iteration == 5
    scramble_global_random_state()  # as in a new process: only the checkpoint can give the state back
    second = Trainer.reopen("halves", library=library, device="cpu")
    assert isinstance(second.run(), Finished)
    a, b = straight.model.state_dict()["nets"], second.model.state_dict()["nets"]
    assert a.keys() == b.keys()
    for net in a:
        for key, value in a[net].items():
            assert torch.equal(value, b[net][key]), f"{net}.{key}"
