"""Read a model's generator file (safetensors + config in its metadata) into ready networks.

The file is untrusted input: safetensors holds only tensors (nothing to
execute), and every way it can be wrong becomes a ModelFileError that says
what is wrong and what to do.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from ..config import ModelConfig
from ..errors import ConfigError, GanStudioError
from ..fsutil import MISSING, regular_file_problem
from ..humanize import display_path
from ..models.export import FORMAT
from ..models.finite import describe, nonfinite_names
from ..models.networks import define_G


class ModelFileError(GanStudioError):
    pass


def load_generators(path: Path) -> tuple[ModelConfig, dict[str, torch.nn.Module]]:
    """The model config and one generator per direction the file holds, weights loaded, on the CPU."""
    path = Path(path)
    problem = regular_file_problem(path)  # a pipe there would block safetensors' open for ever
    if problem == MISSING:
        raise ModelFileError(
            f"{path} is missing: this model has no trained weights yet (train it, or import a checkpoint)"
        )
    if problem:
        raise ModelFileError(
            f"{path} is {problem}, not a weights file: move it away, then train the model on "
            "(a checkpoint writes the weights again) or import them again"
        )
    try:
        with safe_open(str(path), "pt") as f:
            metadata = f.metadata() or {}
            tensors = {key: f.get_tensor(key) for key in f.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(
            f"{path.name} cannot be read ({exc}); it may be damaged or incomplete. "
            "Export it again from its checkpoint, or retrain."
        ) from None
    if metadata.get("format") != FORMAT:
        raise ModelFileError(f"{path.name} is not a GAN Studio generator file")
    try:
        config = ModelConfig.from_json(metadata.get("config", ""))
    except ConfigError as exc:
        raise ModelFileError(f"{path.name} has an unusable configuration: {exc}") from None
    except RecursionError:  # JSON nested thousands deep: no configuration, and no reason to crash over it
        raise ModelFileError(f"{path.name} has an unusable configuration: it is nested too deeply") from None
    directions = [d for d in metadata.get("directions", "").split(",") if d]
    if not directions:
        raise ModelFileError(f"{path.name} names no translation direction")
    generators = {}
    for direction in directions:
        prefix = direction + "."
        state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        nc_in, nc_out = (
            (config.input_nc, config.output_nc) if direction == "AtoB" else (config.output_nc, config.input_nc)
        )
        net = define_G(nc_in, nc_out, config.ngf, config.netG, config.norm, config.dropout, upsample=config.upsample)
        _check_number_types(path, direction, state, net.state_dict())
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            summary = str(exc).split("\n\t", 1)[-1][:300]
            raise ModelFileError(
                f"{path.name}: the {direction} weights do not fit a {config.netG} generator "
                f"with ngf {config.ngf} ({summary})"
            ) from None
        bad = nonfinite_names(net.state_dict())  # also what a float64 beyond float32's range became
        if bad:
            raise ModelFileError(
                f"{display_path(path)}: the {direction} weights hold NaN or infinite numbers ({describe(bad)}): "
                "the training that wrote them diverged, or the file was changed. Convert with another model, "
                "or train this one again with a lower learning rate."
            )
        generators[direction] = net.eval()
    return config, generators


def _check_number_types(path: Path, direction: str, state: dict, expected: dict) -> None:
    """Floating-point weights stored as whole numbers are no weights (loading would quietly convert them)."""
    for key, tensor in state.items():
        wanted = expected.get(key)
        if wanted is not None and wanted.is_floating_point() and not tensor.is_floating_point():
            raise ModelFileError(
                f"{display_path(path)}: the {direction} tensor {key} is stored as {str(tensor.dtype)[6:]}, not as "
                "floating-point weights: the file was changed, or is not a generator. Export it again, or retrain."
            )


def translator_for_model(entry, direction: str = "AtoB", device="cpu", config=None):
    """A Translator for a library model, with the model's recorded choices filling "auto"."""
    from ..config import ConvertConfig
    from .translator import TranslateOptions, Translator

    config = config or ConvertConfig(direction=direction)
    model_cfg, generators = load_generators(entry.weights_path)
    if direction not in generators:
        have = " and ".join(generators)
        raise ModelFileError(f"{entry.name} translates {have} only; it has no {direction} generator")
    record = entry.require()
    norm = record.inference_norm if config.norm == "auto" else config.norm
    data = record.data_config()
    resized = data.preprocess in ("resize_and_crop", "scale_width", "scale_width_and_crop")
    scale = config.scale if config.scale in ("full", "model") else float(config.scale)
    from ..device import resolve_precision
    from .openvino_runtime import resolve_runtime

    precision = resolve_precision(config.precision, torch.device(device))
    runtime = resolve_runtime(precision, torch.device(device))
    options = TranslateOptions(tile=config.tile, scale=scale, norm=norm, precision=precision, runtime=runtime)
    translator = Translator(
        generators[direction], model_cfg.size_multiple, device, options, train_size=data.load_size if resized else None
    )
    return _prepared(translator, entry.name, record) if config.prepare_input else translator


def _prepared(translator, name: str, record):
    """The translator behind the pair maker the model's training pairs were made with."""
    from ..data.pair_makers import PairSettings
    from ..errors import ConfigError
    from .prepared import PreparedTranslator

    made = record.dataset.get("pair_maker")
    if not isinstance(made, dict):
        raise ModelFileError(
            f"{name} was not trained on pairs made from artworks, so there is no input to make first: "
            "convert without 'make the input first' (--prepare-input)"
        )
    try:
        return PreparedTranslator(translator, PairSettings.from_dict(made))
    except (ConfigError, TypeError) as exc:
        raise ModelFileError(f"{name}'s record of how its training pairs were made is damaged: {exc}") from None
