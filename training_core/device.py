"""Where the work runs: CUDA, then Apple MPS, then the CPU; and how many CPU threads."""

from __future__ import annotations

import os

import torch

from .errors import ConfigError


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def available_devices() -> list[str]:
    """The devices this machine can train on, as --device accepts them: "cuda:0", ..., "mps", "cpu"."""
    found = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    return found + (["mps"] if _mps_available() else []) + ["cpu"]


def pick_device(preference: str | None = "auto") -> torch.device:
    """The device for ``preference`` ("auto", "cuda", "cuda:1", "mps", "cpu"); ConfigError if it is not here."""
    preference = (preference or "auto").strip().lower()
    here = f"this machine has: {', '.join(available_devices())} (or auto)"
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if _mps_available() else "cpu")
    if preference == "cuda" or preference.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ConfigError(
                f"CUDA was asked for, but this PyTorch (torch {torch.__version__}) sees no CUDA GPU; {here}"
            )
        index = preference.partition(":")[2]
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise ConfigError(f"{preference} does not exist; {here}")
        return torch.device(preference)
    if preference == "mps":
        if not _mps_available():
            raise ConfigError(f"Apple MPS was asked for, but it is not available here; {here}")
        return torch.device("mps")
    if preference == "cpu":
        return torch.device("cpu")
    raise ConfigError(f"device {preference!r} is not known; {here}")


UI_SPARE_CORE_FROM = 4  # machines with at least this many cores keep one free for the window


def cpu_threads(cores: int, leave_one_for_ui: bool = False) -> int:
    """Threads for the work: every core, or all but one for a window on machines with 4 or more.

    On 2 or 3 cores a spare core costs a third or more of the speed, and the window measured
    responsive without it (2 cores: longest stall 11 ms while training on both; bench/README.md).
    """
    return cores - 1 if leave_one_for_ui and cores >= UI_SPARE_CORE_FROM else max(1, cores)


def usable_cores() -> int:
    """Cores this process may run on (an affinity mask or container limit can allow fewer than exist)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # Windows and macOS have no affinity call
        return os.cpu_count() or 1


def configure_cpu_threads(leave_one_for_ui: bool = False) -> int:
    """Set PyTorch's CPU thread count for this process (see ``cpu_threads``); returns it."""
    threads = cpu_threads(usable_cores(), leave_one_for_ui)
    torch.set_num_threads(threads)
    return threads


def configure_cuda_kernels(deterministic: bool, fixed_shapes: bool) -> None:
    """Process-wide kernel choices for a run: deterministic kernels (a resumed CUDA run is then
    bit-identical), else cuDNN's autotuned fastest for fixed shapes. TF32 in either case: on Ampere and
    later fp32 matrix products run on tensor cores, and the reduced mantissa is deterministic too."""
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS's fixed-order workspace
    torch.use_deterministic_algorithms(deterministic)
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = fixed_shapes and not deterministic
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True


def describe_device(device: torch.device) -> str:
    """A short label for status bars and logs, e.g. "CUDA: NVIDIA H100" or "CPU, 2 threads"."""
    if device.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple MPS"
    threads = torch.get_num_threads()
    return f"CPU, {threads} thread{'s' if threads != 1 else ''}"


def bf16_is_fast(device: torch.device) -> bool:
    """bfloat16 has hardware support here: CUDA (Ampere and later), or a CPU with AVX512-BF16 or AMX."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return False
    return False


def autocast_dtype(precision: str) -> torch.dtype | None:
    """The autocast dtype of a resolved precision; None for fp32 (no autocast)."""
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)


def resolve_precision(precision: str, device: torch.device) -> str:
    """ "auto": bf16 on CPUs with native bf16 (AVX512-BF16 or AMX, as oneDNN reports it): there the
    model keeps bf16 working copies of its weights between steps (models/bf16_weights.py), at the
    same held-out quality as fp32; fp32 elsewhere, CUDA included, where these batch-1 networks
    measured slower in bf16, and on CPUs without native bf16, whose bf16 is emulated (bench/README.md)."""
    if precision != "auto":
        return precision
    return "bf16" if device.type == "cpu" and bf16_is_fast(device) else "fp32"
