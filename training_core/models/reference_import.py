"""Import generators trained with the reference PyTorch pix2pix/CycleGAN code (``latest_net_G.pth``...).

Those files are plain state dicts. The architecture is read off the keys and
shapes: ResNet generators have a flat ``model.<i>`` list with ``conv_block``
residual blocks; U-Nets nest ``model.model.1.model.3...`` one level per
downsampling. Older releases stored running statistics for instance-norm
layers, which current PyTorch (and the reference since) ignores; so do we.
Files are read with ``weights_only=True``: a pickle that tries to run code is
refused before anything of it runs.
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import torch

from ..config import CycleGANConfig, ModelConfig, Pix2PixConfig
from ..errors import ConfigError, GanStudioError
from ..fsutil import MISSING, file_kind, regular_file_problem
from .networks import define_G

_RESNET_BLOCK = re.compile(r"^model\.(\d+)\.conv_block\.")
_STAT_SUFFIXES = (".running_mean", ".running_var", ".num_batches_tracked")
# The largest generator GAN Studio builds (a U-Net of width 256) holds 0.9 billion float32 weights.
MAX_FILE_BYTES = 8 * 10**9


class ReferenceImportError(GanStudioError):
    pass


def _open_weights_file(path: Path):
    """``path`` opened for reading if it is a regular file of a size a generator can have.

    A named pipe would block the import forever and a device never ends: both
    are refused from what was really opened (O_NONBLOCK: opening a pipe does
    not wait for a writer).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        problem = regular_file_problem(path)
        raise ReferenceImportError(
            f"{path.name} cannot be read: {'no such file' if problem == MISSING else 'it is ' + problem}"
        ) from None
    except OSError as exc:
        raise ReferenceImportError(f"{path.name} cannot be read: {exc.strerror or exc}") from None
    info = os.fstat(fd)
    if kind := file_kind(info.st_mode):
        os.close(fd)
        raise ReferenceImportError(f"{path.name} is {kind}, not a weights file: choose the .pth file itself")
    if info.st_size > MAX_FILE_BYTES:
        os.close(fd)
        raise ReferenceImportError(
            f"{path.name} is {info.st_size / 1e9:.1f} GB, larger than any generator GAN Studio builds "
            f"({MAX_FILE_BYTES / 1e9:.0f} GB): is it the right file?"
        )
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)  # a regular file: ordinary reads from here on
    return os.fdopen(fd, "rb")


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    with _open_weights_file(path) as f:
        try:
            head = f.read(2)
            f.seek(0)
        except OSError as exc:
            raise ReferenceImportError(f"{path.name} cannot be read: {exc.strerror or exc}") from None
        if head != b"PK" and head[:1] != b"\x80":  # neither torch's zip format nor a pickle
            raise ReferenceImportError(f"{path.name} is not a PyTorch checkpoint that can be read")
        return _load_state_dict(path, f)


def _load_state_dict(path: Path, f) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(f, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        globals_named = [line.strip() for line in str(exc).splitlines() if "GLOBAL" in line]
        culprit = globals_named[0][:200] if globals_named else "objects other than tensors"
        raise ReferenceImportError(
            f"{path.name} was refused: it contains objects other than tensors, which could run code when "
            f"loaded ({culprit}). Only plain weight files (state dicts) are imported."
        ) from None
    except Exception as exc:
        raise ReferenceImportError(
            f"{path.name} is not a PyTorch checkpoint that can be read ({type(exc).__name__}: {str(exc)[:160]})"
        ) from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ReferenceImportError(f"{path.name} does not hold a generator's weights (a dict of tensors)")
    # Saved from nn.DataParallel: keys start with "module.".
    return {k.removeprefix("module."): v for k, v in state.items()}


_TOP_WEIGHT = re.compile(r"^model\.(\d+)\.weight$")


def _norm_of(state: dict, norm_weight_key: str, conv_bias_key: str) -> str:
    if norm_weight_key in state:
        return "batch"
    if conv_bias_key in state:
        return "instance"
    raise ReferenceImportError(
        "this generator has no normalisation layers and no biases "
        "(norm 'none' in the reference code), which GAN Studio cannot import"
    )


def infer_config(state: dict[str, torch.Tensor]) -> tuple[str, dict]:
    """(netG, settings) of the network these weights belong to."""
    if "model.model.0.weight" in state:  # U-Net: outermost down-convolution
        first = state["model.model.0.weight"]
        ngf, input_nc = first.shape[0], first.shape[1]
        depth, prefix = 1, "model.model.1"
        while f"{prefix}.model.3.model.1.weight" in state:  # a nested block's down-convolution
            depth, prefix = depth + 1, f"{prefix}.model.3"
        num_downs = depth + 1  # the innermost block has no submodule
        output_nc = state["model.model.3.weight"].shape[1]
        norm = _norm_of(state, "model.model.1.model.2.weight", "model.model.1.model.1.bias")
        return f"unet_{2**num_downs}", dict(ngf=ngf, input_nc=input_nc, output_nc=output_nc, norm=norm, dropout=True)
    if "model.1.weight" in state and state["model.1.weight"].dim() == 4 and state["model.1.weight"].shape[-1] == 7:
        first = state["model.1.weight"]
        ngf, input_nc = first.shape[0], first.shape[1]
        blocks = {int(m.group(1)) for k in state if (m := _RESNET_BLOCK.match(k))}
        if not blocks:
            raise ReferenceImportError("this looks like a ResNet generator but has no residual blocks")
        block = min(blocks)
        # With dropout the second convolution moves from index 5 to 6 (where batch norm has a 1-D weight).
        second = state.get(f"model.{block}.conv_block.6.weight")
        dropout = second is not None and second.dim() == 4
        last = max(int(m.group(1)) for k in state if (m := _TOP_WEIGHT.match(k)))  # the final convolution
        output_nc = state[f"model.{last}.weight"].shape[0]
        norm = _norm_of(state, "model.2.weight", "model.1.bias")
        return f"resnet_{len(blocks)}blocks", dict(
            ngf=ngf, input_nc=input_nc, output_nc=output_nc, norm=norm, dropout=dropout
        )
    raise ReferenceImportError(
        "these weights are neither a ResNet nor a U-Net generator of the reference "
        "pix2pix/CycleGAN code (is it a discriminator, net_D?)"
    )


def _clean(state: dict, norm: str) -> dict:
    if norm == "instance":  # old releases kept running stats for instance norm; they mean nothing
        return {k: v for k, v in state.items() if not k.endswith(_STAT_SUFFIXES)}
    return state


def _check_claim(path: Path, netG: str, settings: dict, state: dict) -> None:
    """The architecture the weights claim is within bounds and holds as many numbers as the file: checked on
    PyTorch's meta device, where building a network allocates nothing."""
    try:
        ModelConfig.from_dict(
            {
                "family": "pix2pix",
                "netG": netG,
                "ngf": settings["ngf"],
                "input_nc": settings["input_nc"],
                "output_nc": settings["output_nc"],
            }
        )
    except ConfigError as exc:
        raise ReferenceImportError(f"{path.name} claims a network GAN Studio will not build: {exc}") from None
    with torch.device("meta"):
        shape = define_G(
            settings["input_nc"], settings["output_nc"], settings["ngf"], netG, settings["norm"], settings["dropout"]
        ).state_dict()
    expected, held = sum(t.numel() for t in shape.values()), sum(t.numel() for t in state.values())
    if expected != held:
        raise ReferenceImportError(
            f"{path.name} looks like a {netG} generator (ngf {settings['ngf']}) but its "
            f"weights do not fit: that network has {expected:,} numbers, the file holds "
            f"{held:,} (damaged, or another architecture)"
        )


def load_reference_generator(path: Path) -> tuple[str, dict, torch.nn.Module]:
    """Read a reference generator file: (netG, settings, the network with its weights)."""
    state = read_state_dict(path)
    netG, settings = infer_config(state)
    state = _clean(state, settings["norm"])
    _check_claim(Path(path), netG, settings, state)
    net = define_G(
        settings["input_nc"], settings["output_nc"], settings["ngf"], netG, settings["norm"], settings["dropout"]
    )
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ReferenceImportError(
            f"{Path(path).name} looks like a {netG} generator but its weights do not fit "
            f"({str(exc).splitlines()[1][:200] if chr(10) in str(exc) else exc})"
        ) from None
    return netG, settings, net.eval()


def reference_config(paths: list[Path]) -> tuple[ModelConfig, dict[str, torch.nn.Module]]:
    """A model config and its generators from one file (G) or two (G_A, G_B of a CycleGAN)."""
    loaded = [load_reference_generator(p) for p in paths]
    netG, settings, _ = loaded[0]
    common = dict(
        netG=netG,
        ngf=settings["ngf"],
        norm=settings["norm"],
        dropout=settings["dropout"],
        input_nc=settings["input_nc"],
        output_nc=settings["output_nc"],
    )
    if len(loaded) == 1:
        return Pix2PixConfig(**common).validate(), {"AtoB": loaded[0][2]}
    if len(loaded) != 2 or loaded[1][0] != netG:
        raise ReferenceImportError("a CycleGAN import takes two generators of the same kind (G_A and G_B)")
    config = CycleGANConfig(
        **common, lambda_identity=0.0 if settings["input_nc"] != settings["output_nc"] else 0.5
    ).validate()
    return config, {"AtoB": loaded[0][2], "BtoA": loaded[1][2]}
