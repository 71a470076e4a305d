"""Tiny clips made with PyAV for the tests: textured frames (moving, or still under a brightening lamp), a tone."""

from fractions import Fraction

import av
import numpy as np
from PIL import Image

W, H, FRAMES, FPS = 64, 48, 24, 24
SUBTITLE_HEADER = b"[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, Style, Text\n"


def picture(i, lamp=0.0, seed=0):
    """A textured frame moving one pixel a frame; with ``lamp``, a still one whose left half brightens by that much
    a frame (grey levels), as under a lamp being turned up."""
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 200, (H, W * 2, 3)).astype(np.float32)
    if not lamp:
        return base[:, i % W : i % W + W].astype(np.uint8)
    frame = base[:, :W].copy()
    frame[:, : W // 2] += lamp * i
    return np.clip(frame, 0, 255).astype(np.uint8)


def make_clip(
    path,
    frames=FRAMES,
    fps=FPS,
    audio=True,
    lamp=0.0,
    rotation=0,
    pts=None,
    container="mp4",
    codec="libx264",
    audio_codec="aac",
    chapters=(),
    subtitles=(),
):
    """A clip of ``frames`` frames (timestamps ``pts`` in 1/fps units for a variable rate) and a tone;
    ``chapters``: (start, end, title) and ``subtitles``: (start, end, text), in seconds."""
    rate = 48000 if audio_codec == "libopus" else 44100  # Opus takes 48 kHz
    with av.open(str(path), "w", format=container) as out:
        video = out.add_stream(codec, rate=fps, options={"crf": "10"} if codec == "libx264" else {})
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        video.codec_context.time_base = Fraction(1, fps)
        if rotation:
            video.set_display_rotation(rotation)
        tone = out.add_stream(audio_codec, rate=rate) if audio else None
        if chapters:
            ms = Fraction(1, 1000)
            marks = [(round(a * 1000), round(b * 1000), title) for a, b, title in chapters]
            out.set_chapters(
                [
                    {"id": n + 1, "start": a, "end": b, "time_base": ms, "metadata": {"title": t}}
                    for n, (a, b, t) in enumerate(marks)
                ]
            )
        lines = out.add_stream("subrip" if container == "matroska" else "mov_text") if subtitles else None
        if lines is not None:
            lines.codec_context.time_base = Fraction(1, 1000)
            lines.codec_context.subtitle_header = SUBTITLE_HEADER  # the encoders open only with one
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(picture(i, lamp), format="rgb24")
            frame.pts, frame.time_base = (pts[i] if pts else i), Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        for start, end, text in subtitles:
            data = text.encode()
            packet = av.Packet(data if container == "matroska" else len(data).to_bytes(2, "big") + data)
            packet.pts = packet.dts = round(start * 1000)
            packet.duration, packet.time_base, packet.stream = round((end - start) * 1000), Fraction(1, 1000), lines
            out.mux(packet)
        if tone is not None:
            t = np.arange(int(rate * frames / fps)) / rate
            samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
            sound = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            sound.sample_rate, sound.pts = rate, 0
            for packet in tone.encode(sound):
                out.mux(packet)
            for packet in tone.encode():
                out.mux(packet)
    return path


def photos_and_clip(path, clip=True):
    """A folder of two photos (PNG, JPEG) and, with ``clip``, one clip with sound."""
    path.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.jpg"):
        Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)).save(path / name)
    if clip:
        make_clip(path / "walk.mp4")
    return path
