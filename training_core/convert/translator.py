"""Translate one image of any size with a trained generator, returning it at exactly its size.

Small images are padded (by mirroring) to the multiple the generator needs and
cropped back. Images too large for the device's memory are translated in
overlapping tiles blended with feathered weights. All tiles share one set of
normalisation statistics, captured from the whole image (or, when even one pass
over it would not fit, from a downscaled copy), so there is no colour step
between tiles. Tiles start on the network's stride grid and overlap by at least
64 px, and the outer third of each overlap, where a tile sees least context,
gets no weight. Tolerance, tiled against untiled, in 8-bit grey levels (trained
6- and 9-block ResNets, 128 and 256 px tiles, 12 runs): under 0.1 on average and
under 0.5 along any row or column (no band), single pixels at most 11 (most runs
under 3); ``test_translator.py`` holds a trained ResNet to 4 and 0.05. A U-Net
tiled at its own multiple (128 px tiles for ``unet_128``) differs more, up to
about 20 levels in places: each tile's 1x1 bottleneck sees only that tile. The
tile size follows the memory available, and an out-of-memory error retries with
smaller tiles.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F

from ..data.transforms import to_image, to_tensor
from ..device import autocast_dtype
from ..models.inference_norm import inference_copy, stat_norms

log = logging.getLogger(__name__)

MIN_TILE = 128
MAX_TILE = 4096
MAX_TILES_PER_RUN = 8
MIN_SIDE = 16  # smaller inputs are mirrored up to this: a ResNet's inner reflection padding needs room
# Tile overlap: a tile's outermost pixels see less context than the whole image gives them. At 128 px
# tiles, trained ResNets' blends measured up to 19 grey levels off the untiled result with 32 px
# overlaps, 10 with 48, 2.9 with 64.
MIN_OVERLAP = 64


@dataclass
class TranslateOptions:
    """How to translate: tile side (0 = automatic), processing scale, norm statistics, precision.

    scale: "full" works at the photo's own resolution; "model" at the scale the
    model was trained at (downscale, translate, upscale back); a number is a
    factor (0.5 = half size).
    """

    tile: int = 0
    scale: str | float = "full"
    norm: str = "image"
    precision: str = "fp32"
    runtime: str = "torch"  # or "openvino" (openvino_runtime.py): the passes it can take, on the CPU


def _is_oom(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, torch.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)
    )


def _mirror_pad(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Pad NCHW ``x`` at the bottom/right to height x width by mirroring (any amount, even > size)."""
    _, _, h, w = x.shape
    if (h, w) == (height, width):
        return x
    padded = np.pad(x.numpy(), ((0, 0), (0, 0), (0, height - h), (0, width - w)), mode="symmetric")
    return torch.from_numpy(padded)


def _round_up(value: int, multiple: int) -> int:
    return max(multiple, math.ceil(value / multiple) * multiple)


def _feather(length: int, overlap: int, at_start: bool, at_end: bool) -> torch.Tensor:
    """1-D blending weights across the overlaps, except at the image's own edges.

    The outer third of an overlap gets no weight (the neighbour, which sees more context there,
    gives those pixels alone), then a linear ramp; the two tiles' weights sum to one.
    """
    ramp = torch.ones(length)
    if overlap > 0:
        margin = overlap // 3
        edge = torch.ones(overlap)
        edge[:margin] = 0
        edge[margin : overlap - margin] = torch.linspace(0, 1, overlap - 2 * margin + 2)[1:-1]
        if not at_start:
            ramp[:overlap] = edge
        if not at_end:
            ramp[-overlap:] = edge.flip(0)
    return ramp


def _tile_starts(size: int, tile: int, overlap: int, multiple: int) -> list[int]:
    """Tile starts on the network's stride grid, ``size`` being a multiple of it.

    A tile shifted off the grid samples every strided layer at another phase: its output then
    differs from the untiled one everywhere (measured up to 100 grey levels), not only at its
    borders. When the tile is too small to overlap on the full grid, the grid is halved.
    """
    if size <= tile:
        return [0]
    align = multiple
    while align > 1 and tile - overlap < align:
        align //= 2
    step = (tile - overlap) // align * align
    return sorted(set(range(0, size - tile, step)) | {size - tile})


class Translator:
    def __init__(
        self,
        generator: nn.Module,
        multiple: int,
        device: torch.device | str = "cpu",
        options: TranslateOptions | None = None,
        train_size: int | None = None,
    ):
        self.options = options or TranslateOptions()
        self.device = torch.device(device)
        self.multiple = multiple
        self.train_size = train_size
        # channels_last: measured 1.1x faster inference than the default layout with bf16 on the CPU.
        self.net = inference_copy(generator, self.options.norm).to(self.device, memory_format=torch.channels_last)
        self._norms = stat_norms(self.net)
        self._fingerprint: str | None = None
        self._amp = autocast_dtype(self.options.precision)
        self._openvino: Callable[[torch.Tensor], torch.Tensor] | None = None  # OpenVINO's, made at its first pass
        self.tile = self._auto_tile() if not self.options.tile else max(self.multiple, self.options.tile)
        self.tile = _round_up(self.tile, self.multiple) if self.tile % self.multiple else self.tile
        # The side one pass over a whole image may have, for the statistics of tiled images: what the
        # memory allows, even when smaller tiles were asked for (measured when first needed).
        self._stats_side: int | None = None if self.options.tile else self.tile
        self._capturing = False
        # On a GPU at these sizes each tile's pass is mostly kernel launches: several tiles in one batch
        # cost little more than one. The CPU is bound by arithmetic, and gains nothing from batches.
        self.tiles_per_run = self._tiles_per_run() if self.device.type in ("cuda", "mps") else 1

    # -- public --------------------------------------------------------------------------------
    def fingerprint(self) -> str:
        """A digest of the weights and of every option that changes the pixels.

        Two translators with equal fingerprints give the same image, so an
        output made by one of them need not be made again.
        """
        settings = "|".join(f"{name}={value}" for name, value in self.pixel_settings().items())
        return hashlib.blake2b(f"{self.weights_digest()}|{settings}".encode(), digest_size=16).hexdigest()

    def pixel_settings(self) -> dict[str, str]:
        """The translation options that change the pixels, by name, as text."""
        o = self.options
        settings = {"tile": str(o.tile), "scale": str(o.scale), "norm": str(o.norm), "precision": str(o.precision)}
        if o.runtime != "torch":  # named only when not PyTorch: outputs made before it existed stay current
            settings["runtime"] = o.runtime
        return settings

    def weights_digest(self) -> str:
        """A digest of the network's weights and the sizes it works at (computed once)."""
        if self._fingerprint is None:
            digest = hashlib.blake2b(digest_size=16)
            digest.update(f"{self.train_size}|{self.multiple}".encode())
            for name, tensor in self.net.state_dict().items():
                digest.update(name.encode())
                digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
            self._fingerprint = digest.hexdigest()
        return self._fingerprint

    def describe(self) -> str:
        return f"tiles of up to {self.tile}x{self.tile} px" + (" (automatic)" if not self.options.tile else "")

    def translate(self, img: Image.Image) -> Image.Image:
        """The translated image, exactly the size of ``img`` (an RGB PIL image)."""
        size = img.size
        factor = self._scale_factor(size)
        work = (
            img
            if factor == 1.0
            else img.resize(
                (max(1, round(size[0] * factor)), max(1, round(size[1] * factor))), Image.Resampling.LANCZOS
            )
        )
        out = to_image(self.translate_tensor(to_tensor(work)[None])[0])
        return out if out.size == size else out.resize(size, Image.Resampling.LANCZOS)

    @torch.inference_mode()
    def translate_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """NCHW in [-1, 1] (N = 1) on the CPU -> the same shape, translated, on the CPU."""
        while True:
            try:
                return self._translate(x)
            except (torch.OutOfMemoryError, RuntimeError) as exc:
                if not _is_oom(exc):
                    raise
                self._release_memory()
                capturing, self._capturing = self._capturing, False
                if capturing and (self._stats_side or 0) > self.tile:  # the statistics from a smaller copy
                    log.warning("out of memory for statistics at %d px; now at %d px", self._stats_side, self.tile)
                    self._stats_side = self.tile
                    continue
                if self.tiles_per_run > 1:  # first one tile at a time, then smaller tiles
                    log.warning("out of memory with %d tiles at once; retrying one at a time", self.tiles_per_run)
                    self.tiles_per_run = 1
                    continue
                if self.tile <= max(MIN_TILE, self.multiple):
                    raise
                smaller = max(max(MIN_TILE, self.multiple), (self.tile // 2) // self.multiple * self.multiple)
                log.warning("out of memory with %d px tiles; retrying with %d px tiles", self.tile, smaller)
                self.tile = smaller
                self._stats_side = min(self._stats_side or smaller, smaller)

    # -- statistics held across images (a clip's frames: held_stats.py) --------------------------
    def measures_per_image(self) -> bool:
        """Some norm layer normalises each image by its own statistics (which can then be held)."""
        return any(not norm.use_running for norm in self._norms)

    @torch.inference_mode()
    def measure_statistics(self, x: torch.Tensor) -> list[tuple[list[float], list[float]]]:
        """Per norm layer that measures per image, the per-channel mean and variance over ``x`` (NCHW in
        [-1, 1], N = 1, in one untiled pass: it must fit one tile)."""
        norms = [norm for norm in self._norms if not norm.use_running]
        _, _, h, w = x.shape
        self._set_fixed_stats(None)
        for norm in norms:
            norm.capture = True
        try:
            self._run(_mirror_pad(x, _round_up(max(h, MIN_SIDE), self.multiple), _round_up(w, self.multiple)))
            captured = [norm.fixed for norm in norms if norm.fixed is not None]
            if len(captured) < len(norms):  # a norm layer the pass did not reach: its statistics would be missing
                raise RuntimeError("measuring statistics: a norm layer of the generator was not run")
            return [(mean.float().cpu().tolist(), var.float().cpu().tolist()) for mean, var in captured]
        finally:
            for norm in norms:
                norm.capture = False
            self._set_fixed_stats(None)

    @contextlib.contextmanager
    def hold_statistics(self, stats: list[tuple[list[float], list[float]]]):
        """Within: every image is normalised with ``stats`` (measure_statistics's) instead of its own."""
        norms = [norm for norm in self._norms if not norm.use_running]
        if len(norms) != len(stats):
            raise ValueError(f"{len(stats)} sets of statistics for {len(norms)} norm layers")
        for norm, (mean, var) in zip(norms, stats):
            norm.held = (torch.tensor(mean, device=self.device), torch.tensor(var, device=self.device))
        try:
            yield
        finally:
            for norm in norms:
                norm.held = None

    # -- the work --------------------------------------------------------------------------------
    def _translate(self, x: torch.Tensor) -> torch.Tensor:
        _, _, h, w = x.shape
        ph, pw = _round_up(max(h, MIN_SIDE), self.multiple), _round_up(max(w, MIN_SIDE), self.multiple)
        if ph * pw <= self.tile * self.tile:
            self._set_fixed_stats(None)
            return self._run(_mirror_pad(x, ph, pw))[:, :, :h, :w].cpu()
        self._capture_stats(x)
        try:
            return self._tiled(x)
        finally:
            self._set_fixed_stats(None)

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        if self.options.runtime == "openvino" and self._own_statistics():
            return self._openvino_pass(x)
        with torch.autocast(self.device.type, dtype=self._amp, enabled=self._amp is not None):
            x = x.to(self.device).contiguous(memory_format=torch.channels_last)
            return self.net(x).float().contiguous()

    def _own_statistics(self) -> bool:
        """No statistics are captured, fixed or held: the pass normalises as the compiled graph does."""
        return all(norm.held is None and norm.fixed is None and not norm.capture for norm in self._norms)

    def _openvino_pass(self, x: torch.Tensor) -> torch.Tensor:
        if self._openvino is None:
            from .openvino_runtime import openvino_network

            self._openvino = openvino_network(self.net, precision=self.options.precision)
        return self._openvino(x)

    def _tiled(self, x: torch.Tensor) -> torch.Tensor:
        _, c, h, w = x.shape
        # Padded to the stride grid as the untiled pass pads, so every tile can start on it.
        padded = _mirror_pad(x, _round_up(h, self.multiple), _round_up(w, self.multiple))
        H, W = padded.shape[2:]
        tile_h, tile_w = min(self.tile, H), min(self.tile, W)
        overlap = min(max(MIN_OVERLAP, min(tile_h, tile_w) // 8), min(tile_h, tile_w) // 2)
        out = torch.zeros(1, 3, H, W)
        weight = torch.zeros(1, 1, H, W)
        ys, xs = _tile_starts(H, tile_h, overlap, self.multiple), _tile_starts(W, tile_w, overlap, self.multiple)
        places = [(y, x0) for y in ys for x0 in xs]
        for first in range(0, len(places), self.tiles_per_run):
            batch = places[first : first + self.tiles_per_run]
            # The norms use the whole image's captured statistics: each tile's result is the same alone
            # or in a batch.
            results = self._run(torch.cat([padded[:, :, y : y + tile_h, x0 : x0 + tile_w] for y, x0 in batch]))
            for (y, x0), result in zip(batch, results.cpu()):
                wy = _feather(tile_h, overlap, y == ys[0], y == ys[-1])
                wx = _feather(tile_w, overlap, x0 == xs[0], x0 == xs[-1])
                mask = (wy[:, None] * wx[None, :])[None, None]
                out[:, :, y : y + tile_h, x0 : x0 + tile_w] += result[None, :3] * mask
                weight[:, :, y : y + tile_h, x0 : x0 + tile_w] += mask
        return (out / weight.clamp_min(1e-8))[:, :, :h, :w]

    def _capture_stats(self, x: torch.Tensor) -> None:
        """Measure every norm layer's statistics on the whole image, padded as the untiled pass pads it.

        A photo tiled only because smaller tiles were asked for fits one pass: its tiles then get
        exactly the untiled pass's statistics. One too large for that is measured on a copy
        downscaled to the largest size the memory allows (the closer to full size, the closer the
        statistics).
        """
        if not self._norms:
            return
        _, _, h, w = x.shape
        if self._stats_side is None:
            self._stats_side = max(self.tile, self._memory_side())
        factor = min(1.0, self._stats_side / math.sqrt(h * w))
        small = x
        if factor < 1.0:
            small = F.interpolate(x, size=(max(1, round(h * factor)), max(1, round(w * factor))), mode="area")
        sh, sw = small.shape[2:]
        self._set_fixed_stats(None)
        for norm in self._norms:
            norm.capture = True
        self._capturing = True  # left set by an out-of-memory error, for translate_tensor to see
        try:
            self._run(_mirror_pad(small, _round_up(max(sh, MIN_SIDE), self.multiple), _round_up(sw, self.multiple)))
            self._capturing = False
        finally:
            for norm in self._norms:
                norm.capture = False

    def _set_fixed_stats(self, value) -> None:
        for norm in self._norms:
            norm.fixed = value

    # -- sizes -----------------------------------------------------------------------------------
    def _scale_factor(self, size: tuple[int, int]) -> float:
        scale = self.options.scale
        if scale == "full":
            return 1.0
        if scale == "model":
            if not self.train_size:
                return 1.0
            return min(1.0, self.train_size / min(size))
        factor = float(scale)
        if not 0 < factor <= 4:
            raise ValueError(f"scale must be full, model or a factor in (0, 4], got {scale!r}")
        return factor

    def _auto_tile(self) -> int:
        side = self._memory_side()
        log.info("automatic tile size %d px (%.1f GB budget on %s)", side, _free_memory(self.device) / 1e9, self.device)
        return side

    def _memory_side(self) -> int:
        """The largest tile whose activations fit comfortably in the memory the device has free."""
        per_pixel = self._activation_bytes_per_pixel()
        side = int(math.sqrt(_free_memory(self.device) / per_pixel)) if per_pixel else MAX_TILE
        return max(self.multiple, max(MIN_TILE, min(MAX_TILE, side)) // self.multiple * self.multiple)

    def _tiles_per_run(self) -> int:
        """How many tiles fit the memory budget together (at most 8: beyond, launches are no longer the cost)."""
        per_pixel = self._activation_bytes_per_pixel()
        fits = int(_free_memory(self.device) / (per_pixel * self.tile * self.tile)) if per_pixel else 1
        return max(1, min(MAX_TILES_PER_RUN, fits))

    @torch.inference_mode()
    def _activation_bytes_per_pixel(self) -> float:
        """Memory inference holds per input pixel, estimated from the layers' output sizes.

        Inference frees each activation once the next layer has it, except what skip connections
        keep: so about three of the largest outputs, or a quarter of all of them for a U-Net, whose
        encoder outputs all wait for the decoder.
        """
        probe = self.multiple if self.multiple >= 64 else 64
        sizes = []

        def count(module, inputs, output):
            if isinstance(output, torch.Tensor):
                sizes.append(output.numel())

        hooks = [m.register_forward_hook(count) for m in self.net.modules() if not list(m.children())]
        try:
            self.net(torch.zeros(1, 3, probe, probe, device=self.device))
        finally:
            for hook in hooks:
                hook.remove()
        bytes_per_value = 2 if self._amp is not None else 4
        held = max(3 * max(sizes, default=0), sum(sizes) / 4)
        return held * bytes_per_value / (probe * probe)

    def _release_memory(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        elif self.device.type == "mps":
            torch.mps.empty_cache()


def _free_memory(device: torch.device) -> float:
    """Bytes to spend on one tile's activations: a share of what the device has free."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free * 0.5
    if device.type == "mps":
        return torch.mps.recommended_max_memory() * 0.3
    available: float
    try:  # Linux and macOS: available physical memory
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        available = 4e9
    # On the CPU, time, not memory, limits: a quarter of free RAM, at most 4 GB per tile.
    return min(available * 0.25, 4e9)
