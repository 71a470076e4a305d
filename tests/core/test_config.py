import json

import pytest

from training_core.config import CycleGANConfig, DataConfig, ModelConfig, Pix2PixConfig
from training_core.errors import ConfigError


def test_paper_defaults():
    p = Pix2PixConfig()
    assert (p.netG, p.netD, p.norm, p.dropout, p.gan_mode, p.lambda_L1) == (
        "unet_256",
        "basic",
        "batch",
        True,
        "vanilla",
        100.0,
    )
    c = CycleGANConfig()
    assert (c.netG, c.norm, c.dropout, c.gan_mode, c.pool_size) == ("resnet_9blocks", "instance", False, "lsgan", 50)
    assert (c.lambda_A, c.lambda_B, c.lambda_identity) == (10.0, 10.0, 0.5)
    for cfg in (p, c):
        assert (cfg.lr, cfg.beta1) == (2e-4, 0.5)


@pytest.mark.parametrize("cfg", [Pix2PixConfig(ngf=16, lambda_L1=50.0), CycleGANConfig(netG="resnet_6blocks")])
def test_json_round_trip_keeps_family_and_values(cfg):
    text = json.dumps(cfg.to_dict())
    assert json.loads(text)["family"] == cfg.family
    back = ModelConfig.from_json(text)
    assert type(back) is type(cfg) and back == cfg


def test_ints_are_accepted_for_floats_but_strings_are_not():
    assert Pix2PixConfig.from_dict({"lambda_L1": 10}).lambda_L1 == 10.0
    with pytest.raises(ConfigError, match="ngf must be int"):
        Pix2PixConfig.from_dict({"ngf": "64"})
    with pytest.raises(ConfigError, match="ngf must be int"):
        Pix2PixConfig.from_dict({"ngf": True})


@pytest.mark.parametrize(
    "data,message",
    [
        ({"family": "pix2pix", "netG": "unet_250"}, "netG 'unet_250' is not valid"),
        ({"family": "pix2pix", "norm": "layer"}, "norm 'layer' is not valid: choose one of batch, instance, none"),
        ({"family": "pix2pix", "ngf": 0}, r"ngf must be in \[1, 256\], got 0"),
        ({"family": "pix2pix", "lr": 2.0}, r"lr must be in \(0, 1\), got 2.0"),
        ({"family": "pix2pix", "lambda_L1": -1.0}, r"lambda_L1 must be in \[0, 10000\], got -1.0"),
        ({"family": "pix2pix", "colour": 3}, "unknown Pix2PixConfig setting.*colour"),
        ({"family": "cyclegan", "lambda_L1": 3.0}, "unknown CycleGANConfig setting.*lambda_L1"),
        ({"family": "cyclegan", "output_nc": 1}, "identity loss needs as many input as output channels"),
        ({"family": "stylegan"}, "model family 'stylegan' is not known"),
        ({"netG": "unet_256"}, "does not say its family"),
    ],
)
def test_bad_values_are_refused_with_a_message_naming_the_field(data, message):
    with pytest.raises(ConfigError, match=message):
        ModelConfig.from_dict(data)


def test_family_mismatch_is_refused():
    with pytest.raises(ConfigError, match="expected a pix2pix configuration"):
        Pix2PixConfig.from_dict({"family": "cyclegan"})


def test_invalid_json_is_a_config_error():
    with pytest.raises(ConfigError, match="not valid JSON"):
        ModelConfig.from_json("{family: pix2pix")


def test_data_config_checks():
    assert DataConfig.from_json(json.dumps(DataConfig(preprocess="crop", crop_size=64).to_dict())).crop_size == 64
    with pytest.raises(ConfigError, match="direction 'AB'"):
        DataConfig(direction="AB").validate()
    with pytest.raises(ConfigError, match="load_size .* at least crop_size"):
        DataConfig(load_size=200, crop_size=256).validate()
    with pytest.raises(ConfigError, match="crop_size 200 is not a multiple of 256.*use 256"):
        DataConfig(load_size=286, crop_size=200).check_networks(Pix2PixConfig())
    with pytest.raises(ConfigError, match="crop_size 16 is too small for a 3-layer PatchGAN; use at least 24"):
        DataConfig(preprocess="crop", crop_size=16).check_networks(CycleGANConfig())
    DataConfig(preprocess="crop", crop_size=16).check_networks(CycleGANConfig(netD="pixel"))
    DataConfig(preprocess="none").check_networks(Pix2PixConfig())  # no crop: sizes are rounded instead
