"""OpenVINO as the CPU runtime of a translation (optional: ``pip install "gan-studio[openvino]"``, then
``GAN_STUDIO_RUNTIME=openvino``; resolve_runtime says why it is not chosen by itself).

OpenVINO compiles the whole network for the CPU it runs on: convolutions in the layout and
precision the CPU runs fastest (AMX or AVX-512 bf16 where there), each normalisation and
activation fused into its neighbours. It is given the translator's inference network, so the
statistics choice (each image's own, or the training set's running ones) is part of the graph;
statistics captured for tiles or held across a clip's frames are not, and those passes stay in
PyTorch (translator.py decides).

Converting a network takes tens of seconds, so the converted graph is kept in a cache folder,
named by a digest of the weights and the settings that shape the graph: later runs with the same
model only read and compile it (under a second).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..store import home_override

log = logging.getLogger(__name__)


def openvino_installed() -> bool:
    return importlib.util.find_spec("openvino") is not None


RUNTIME_VARIABLE = "GAN_STUDIO_RUNTIME"  # "openvino": translate with OpenVINO where it can take the pass


def resolve_runtime(precision: str, device: torch.device) -> str:
    """The runtime of a translation: PyTorch, unless $GAN_STUDIO_RUNTIME asks for OpenVINO (installed, CPU).

    Not chosen by itself, because it measured slower: on a 2-core AMD EPYC with AVX512-BF16 (no AMX)
    OpenVINO's bf16 pass took 1.42x PyTorch's bf16 channels_last pass over the same photos, which
    already reaches the CPU's bf16 matrix-product rate (bench/convert_speed.py, bench/README.md). On
    CPUs with AMX it is unmeasured: set the variable and compare with that benchmark.
    """
    wanted = os.environ.get(RUNTIME_VARIABLE, "torch").strip().lower()
    if wanted != "openvino" or device.type != "cpu":
        return "torch"
    if not openvino_installed():
        log.warning('%s=openvino, but OpenVINO is not installed (pip install "gan-studio[openvino]")', RUNTIME_VARIABLE)
        return "torch"
    return "openvino"


def cache_dir() -> Path:
    """Where converted graphs are kept: beside the library under $GAN_STUDIO_HOME, else the user's cache."""
    home = home_override()
    if home is not None:
        return home / "cache" / "openvino"
    import platformdirs

    return Path(platformdirs.user_cache_dir("gan-studio", "gan-studio")) / "openvino"


class OpenVinoNetwork:
    """The compiled network: NCHW float tensor in [-1, 1] on the CPU -> the network's output, float32."""

    def __init__(self, compiled: Any) -> None:
        self._request = compiled.create_infer_request()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = self._request.infer({0: x.float().contiguous().numpy()})[0]
        return torch.from_numpy(out.copy())  # the request reuses its output buffer on the next call


def graph_key(net: nn.Module, precision: str) -> str:
    """Names a converted graph: the weights and buffers (running statistics, with their mode) and versions."""
    import openvino

    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{openvino.__version__}|{torch.__version__}|{precision}".encode())
    for module in net.modules():
        digest.update(f"{type(module).__name__}:{getattr(module, 'use_running', '')}".encode())
    for name, tensor in net.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().float().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def openvino_network(net: nn.Module, folder: Path | None = None, precision: str = "bf16") -> OpenVinoNetwork:
    """``net`` (an inference copy, float32) compiled by OpenVINO for any height and width; ImportError when
    OpenVINO is not installed. ``precision`` "bf16" lets OpenVINO compute in bf16 where the CPU has it."""
    import openvino as ov

    folder = folder or cache_dir()
    channels = next(m for m in net.modules() if isinstance(m, nn.Conv2d)).in_channels
    xml = folder / f"{graph_key(net, precision)}.xml"
    core = ov.Core()
    if xml.is_file() and xml.with_suffix(".bin").is_file():
        model = core.read_model(str(xml))
    else:
        log.info("converting the network for OpenVINO (once per model; kept in %s)", folder)
        # Tracing warns about the generators' size checks, which the translator's padding always passes.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            model = ov.convert_model(net, example_input=torch.zeros(1, channels, 64, 64))
        model.reshape({0: ov.PartialShape([1, channels, -1, -1])})
        _save(ov, model, xml)
    hint = "bf16" if precision == "bf16" else "f32"
    threads = torch.get_num_threads()
    compiled = core.compile_model(
        model,
        "CPU",
        {"INFERENCE_PRECISION_HINT": hint, "PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads},
    )
    return OpenVinoNetwork(compiled)


def _save(ov: Any, model: Any, xml: Path) -> None:
    """Keep the converted graph for later runs; a cache that cannot be written only costs the next run time.

    Written into a temporary folder beside, then renamed into place weights first, so a graph file is
    never there without its weights (OpenVINO names them after the graph, so no temporary names).
    """
    try:
        xml.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=xml.parent, prefix=".converting-") as tmp:
            ov.save_model(model, str(Path(tmp) / "graph.xml"), compress_to_fp16=False)
            os.replace(Path(tmp) / "graph.bin", xml.with_suffix(".bin"))
            os.replace(Path(tmp) / "graph.xml", xml)
    except OSError as exc:
        log.info("the converted network could not be cached in %s (%s): the next run converts it again", xml, exc)
