"""Where work runs and with how many CPU threads."""

import pytest
import torch
from tiny import TINY_CLI

from training_core.device import cpu_threads, pick_device, resolve_precision
from training_core.errors import ConfigError


@pytest.mark.parametrize(
    "cores,for_window,expected",
    [(1, True, 1), (2, True, 2), (3, True, 3), (4, True, 3), (16, True, 15), (2, False, 2), (16, False, 16)],
)
def test_a_core_is_kept_for_the_window_only_where_one_can_be_spared(cores, for_window, expected):
    assert cpu_threads(cores, for_window) == expected


def test_explicit_precisions_are_kept_and_auto_never_picks_half_precision_on_cuda():
    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) == "fp32"
    assert resolve_precision("auto", cpu) in ("bf16", "fp32")
    assert resolve_precision("auto", torch.device("cuda")) == "fp32"


def test_a_device_that_is_not_there_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match=r"'tpu' is not known; this machine has: .*cpu \(or auto\)"):
        pick_device("tpu")
    with pytest.raises(ConfigError, match=r"cuda:7 does not exist|sees no CUDA GPU"):
        pick_device("cuda:7")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA was asked for"):
            pick_device("cuda")


@pytest.mark.parametrize("device", ["cuda:7", "tpu", "cuda:x"])
def test_training_on_a_device_that_is_not_there_creates_nothing(tmp_path, device, caplog):
    from tiny import paired_report

    from training_core.cli import EXIT_USAGE, train_main
    from training_core.store import ModelLibrary

    report = paired_report(tmp_path / "data")
    assert train_main(["--data", str(report.root), "--name", "nowhere", "--device", device]) == EXIT_USAGE
    assert "cpu" in caplog.text and "Traceback" not in caplog.text
    assert ModelLibrary().list() == []
    assert (
        train_main(
            [
                "--data",
                str(report.root),
                "--name",
                "nowhere",
                "--device",
                "cpu",
                "--iterations",
                "1",
                *TINY_CLI,
            ]
        )
        == 0
    )  # the name was not taken
