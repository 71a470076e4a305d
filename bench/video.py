"""Video conversion: frames per second, and the flicker index with the statistics held against per frame.

Three clips are made from a photo of ../shared/photos (coffee.png), with a tone
as AAC: "moving" (a slow pan and zoom over the photo), "static" (the photo held
still, with fresh sensor-like noise in every frame) and "lamp" (held still while
its left half brightens, as when a light is turned up: where per-frame statistics
flicker). Each is converted with the statistics per frame, held over the clip,
and held with colour matching, by the CycleGAN generator (resnet_9blocks, ngf 64,
instance norm; seeded and untrained, so the norm layers' behaviour is what is
measured), or by a model of the library (--model NAME).

Then the moving clip is converted with the decode, the network and the encode
one after the other (overlap off) and overlapped in three threads, alternately,
--runs times each: the median frames/s of each, their ratio, and whether the two
outputs' decoded frames are the same bit for bit.

    python bench/video.py [--quick] [--device auto] [--size 320x240] [--frames 48] [--model NAME] [--runs 3]
                          [--overlap-only] [--ngf 64]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch
from common import SHARED, cpu_name, result
from PIL import Image

FPS = 24


def _moving(photo: Image.Image, i: int, frames: int, size: tuple[int, int]) -> np.ndarray:
    """A window that pans across the photo and zooms in by a third over the clip."""
    w, h = photo.size
    t = i / max(1, frames - 1)
    scale = 1.0 - t / 3
    cw, ch = w * 0.6 * scale, h * 0.6 * scale
    x0, y0 = (w - cw) * t, (h - ch) * (0.3 + 0.4 * t)
    return np.asarray(photo.resize(size, Image.Resampling.BILINEAR, box=(x0, y0, x0 + cw, y0 + ch)))


def _static(photo: Image.Image, i: int, frames: int, size: tuple[int, int], rng) -> np.ndarray:
    still = np.asarray(photo.resize(size, Image.Resampling.LANCZOS)).astype(np.float32)
    return np.clip(still + rng.normal(0, 3, still.shape), 0, 255).astype(np.uint8)


def _lamp(photo: Image.Image, i: int, frames: int, size: tuple[int, int]) -> np.ndarray:
    still = np.asarray(photo.resize(size, Image.Resampling.LANCZOS)).astype(np.float32)
    still[:, : size[0] // 2] *= 1.0 + 0.6 * i / max(1, frames - 1)
    return np.clip(still, 0, 255).astype(np.uint8)


def make_clip(path: Path, picture, frames: int, size: tuple[int, int]) -> Path:
    with av.open(str(path), "w", format="mp4") as out:
        # CRF 8: the still clip's noise survives the encoding, as a camera's does at its usual bitrates.
        video = out.add_stream("libx264", rate=FPS, options={"crf": "8"})
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        video.codec_context.time_base = Fraction(1, FPS)
        tone = out.add_stream("aac", rate=44100)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(picture(i), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        t = np.arange(int(44100 * frames / FPS)) / 44100
        sound = av.AudioFrame.from_ndarray((0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)[None], "fltp", "mono")
        sound.sample_rate, sound.pts = 44100, 0
        for packet in [*tone.encode(sound), *tone.encode()]:
            out.mux(packet)
    return path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="24 frames at 160x120")
    p.add_argument("--device", default="auto")
    p.add_argument("--size", default="320x240")
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--model", help="a model of the library instead of the untrained generator")
    p.add_argument("--norm", default="image", help="a library model's statistics: image (per frame, held), auto")
    p.add_argument("--runs", type=int, default=3, help="conversions of the moving clip with and without overlap")
    p.add_argument("--overlap-only", action="store_true", help="only the overlap's figures (no flicker table)")
    p.add_argument("--ngf", type=int, default=64, help="the untrained generator's width (smaller: a faster network)")
    args = p.parse_args()
    from training_core.convert.translator import TranslateOptions, Translator
    from training_core.convert.video import VideoOptions, convert_video
    from training_core.device import configure_cpu_threads, describe_device, pick_device
    from training_core.models.networks import define_G

    size = (160, 120) if args.quick else tuple(int(v) for v in args.size.lower().split("x"))
    frames = 24 if args.quick else args.frames
    device = pick_device(args.device)
    if device.type == "cpu":
        configure_cpu_threads()
    source = SHARED / "photos" / "coffee.png"
    if not source.is_file():
        raise SystemExit(f"{source} is missing: the video benchmark pans over a photo of ../shared/photos")
    photo = Image.open(source).convert("RGB")
    if args.model:
        from training_core.config import ConvertConfig
        from training_core.convert.model_file import translator_for_model
        from training_core.store import ModelLibrary

        config = ConvertConfig(norm=args.norm)
        translator = translator_for_model(ModelLibrary().get(args.model), device=device, config=config)
        network = f"{args.model} (statistics: {args.norm})"
    else:
        torch.manual_seed(0)
        generator = define_G(3, 3, args.ngf, "resnet_9blocks", "instance").eval()
        translator = Translator(generator, 4, device, TranslateOptions())
        network = f"untrained resnet_9blocks ngf {args.ngf}"
    where = describe_device(device) + (f" ({cpu_name()})" if device.type == "cpu" else "")
    print(f"device: {where}; generator {network}; clips {size[0]}x{size[1]}, {frames} frames at {FPS} fps")

    folder = Path(tempfile.mkdtemp(prefix="gan-studio-video-bench-"))
    rng = np.random.default_rng(0)
    clips = {
        "moving": make_clip(folder / "moving.mp4", lambda i: _moving(photo, i, frames, size), frames, size),
        "static": make_clip(folder / "static.mp4", lambda i: _static(photo, i, frames, size, rng), frames, size),
        "lamp": make_clip(folder / "lamp.mp4", lambda i: _lamp(photo, i, frames, size), frames, size),
    }
    modes = {
        "per_frame": VideoOptions(hold_stats=False),
        "held": VideoOptions(hold_stats=True),
        "held_matched": VideoOptions(hold_stats=True, colour_match=True),
    }
    figures = {}
    for clip_name, clip in clips.items() if not args.overlap_only else ():
        for mode, options in modes.items():
            start = time.perf_counter()
            report = convert_video(translator, clip, folder / f"{clip_name}-{mode}.mp4", options)
            seconds = time.perf_counter() - start
            print(
                f"{clip_name:6} {mode:12} flicker index {report.flicker_index:6.3f} "
                f"(output change {report.output_change:5.2f}, input {report.input_change:5.2f} grey levels/frame); "
                f"{report.frames_per_s:.2f} frames/s converting, {report.frames / seconds:.2f} frames/s overall"
            )
            figures[f"{clip_name}_{mode}_flicker"] = report.flicker_index
            if mode == "held":
                figures[f"{clip_name}_fps"] = report.frames / seconds
    figures.update(_overlap(translator, clips["moving"], folder, args.runs, VideoOptions))
    result("video", **figures)
    return 0


def _decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as clip:
        return [frame.to_ndarray(format="rgb24") for frame in clip.decode(video=0)]


def _overlap(translator, clip: Path, folder: Path, runs: int, options_class) -> dict:
    """frames/s with the decode, the network and the encode in sequence and overlapped, alternately."""
    from training_core.convert.video import convert_video

    rates: dict[bool, list[float]] = {False: [], True: []}
    for run in range(runs):
        for overlap in (False, True):
            out = folder / f"overlap-{overlap}-{run}.mp4"
            start = time.perf_counter()
            report = convert_video(translator, clip, out, options_class(overlap=overlap))
            rates[overlap].append(report.frames / (time.perf_counter() - start))
    sequential, overlapped = statistics.median(rates[False]), statistics.median(rates[True])
    same = all(
        np.array_equal(a, b)
        for a, b in zip(_decoded(folder / "overlap-False-0.mp4"), _decoded(folder / "overlap-True-0.mp4"))
    )
    same_bytes = (folder / "overlap-False-0.mp4").read_bytes() == (folder / "overlap-True-0.mp4").read_bytes()
    print(
        f"moving, {runs} runs each: sequential {sequential:.2f} frames/s, overlapped {overlapped:.2f} frames/s "
        f"(median; x{overlapped / sequential:.2f}); same decoded frames: {same}; same file bytes: {same_bytes}"
    )
    return {"sequential_fps": sequential, "overlapped_fps": overlapped, "overlap_speedup": overlapped / sequential}


if __name__ == "__main__":
    raise SystemExit(main())
