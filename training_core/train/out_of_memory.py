"""Running out of memory while training: recognised on every device, told with advice for that device.

On a GPU torch raises OutOfMemoryError; on the CPU its allocator raises a
plain RuntimeError (or Python a MemoryError), which would otherwise read as
an unexpected error with a traceback.
"""

from __future__ import annotations

import torch

_CPU_ALLOCATOR_WORDS = ("DefaultCPUAllocator", "can't allocate memory", "not enough memory")


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        return True
    return isinstance(exc, RuntimeError) and any(words in str(exc) for words in _CPU_ALLOCATOR_WORDS)


def out_of_memory_message(device_type: str, iteration: int) -> str:
    smaller = "a smaller preset (Quick), a smaller training size or batch size, or a smaller generator"
    if device_type == "cpu":
        what = f"The computer ran out of memory (RAM) at iteration {iteration}. Close other programs, or choose"
    else:
        what = (
            f"The {device_type.upper()} ran out of memory at iteration {iteration}. Close other programs that "
            "use the GPU, or choose"
        )
    return f"{what} {smaller}. This run stays resumable from its last checkpoint."
