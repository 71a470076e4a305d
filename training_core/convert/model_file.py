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
from ..models.export import FORMAT
from ..models.networks import define_G


class ModelFileError(GanStudioError):
    pass


def load_generators(path: Path) -> tuple[ModelConfig, dict[str, torch.nn.Module]]:
    """The model config and one generator per direction the file holds, weights loaded, on the CPU."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(
            f"{path} is missing: this model has no trained weights yet (train it, or import a checkpoint)"
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
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            summary = str(exc).split("\n\t", 1)[-1][:300]
            raise ModelFileError(
                f"{path.name}: the {direction} weights do not fit a {config.netG} generator "
                f"with ngf {config.ngf} ({summary})"
            ) from None
        generators[direction] = net.eval()
    return config, generators


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

    precision = resolve_precision(config.precision, torch.device(device))
    options = TranslateOptions(tile=config.tile, scale=scale, norm=norm, precision=precision)
    return Translator(
        generators[direction], model_cfg.size_multiple, device, options, train_size=data.load_size if resized else None
    )
