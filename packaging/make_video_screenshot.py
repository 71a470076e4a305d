"""The Convert tab previewing a clip, for the README: a frame of a clip, before and after, chosen by the scrubber.

Run under a virtual display with a model of the library:

    xvfb-run -s "-screen 0 1400x900x24" python packaging/make_video_screenshot.py --model NAME

Makes the clip in a temporary folder (a slow pan and zoom over
../shared/photos/astronaut.png, 4 s at 24 fps) beside links to two of the
shared photos, lists the folder on the Convert tab, selects the clip, moves
the scrubber to the middle, and writes docs/screenshots/convert-video.png once
the preview has come.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
SHARED = Path(os.environ.get("GAN_STUDIO_SHARED", ROOT.parent / "shared"))
FPS, SECONDS, SIZE = 24, 4, (512, 384)


def make_clip(photo_path: Path, path: Path) -> Path:
    import av
    import numpy as np
    from PIL import Image

    photo = Image.open(photo_path).convert("RGB")
    w, h = photo.size
    frames = FPS * SECONDS
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=FPS, options={"crf": "18"})
        video.width, video.height, video.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        video.codec_context.time_base = Fraction(1, FPS)
        for i in range(frames):
            t = i / (frames - 1)
            scale = 1.0 - 0.25 * t  # zooms in by a quarter while panning right
            cw, ch = w * 0.8 * scale, w * 0.8 * scale * SIZE[1] / SIZE[0]
            x0, y0 = (w - cw) * t, (h - ch) * 0.3
            picture = photo.resize(SIZE, Image.Resampling.BILINEAR, box=(x0, y0, x0 + cw, y0 + ch))
            frame = av.VideoFrame.from_ndarray(np.asarray(picture), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
    return path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="the model of the library to preview with")
    p.add_argument("--at", type=float, default=0.5, help="where the scrubber stands, as a share of the clip")
    args = p.parse_args()
    sys.path.insert(0, str(ROOT))
    folder = Path(tempfile.mkdtemp(prefix="gan-studio-video-shot-"))
    clips = folder / "clips"
    clips.mkdir()
    make_clip(SHARED / "photos" / "astronaut.png", clips / "astronaut walk.mp4")
    for name in ("camera.png", "chelsea.png"):
        (clips / name).symlink_to(SHARED / "photos" / name)

    from make_screenshots import open_window  # this folder's: the window and the wait, as for the other shots

    app, window, wait = open_window()

    wait(lambda: window.train_panel.engine_ready)
    convert = window.convert_panel
    window.tabs.setCurrentWidget(convert)
    convert.refresh_models()
    index = next((i for i in range(convert.model.count()) if convert.model.itemText(i).startswith(args.model)), -1)
    if index < 0:
        raise SystemExit(f"no model named {args.model!r} in the library")
    convert.model.setCurrentIndex(index)
    convert.set_input_folder(clips)
    convert.output_edit.setText(str(folder / "converted"))
    wait(lambda: convert.files.topLevelItemCount() == 3)
    rows = [convert.files.topLevelItem(i) for i in range(3)]
    convert.files.setCurrentItem(next(row for row in rows if row.text(0).endswith(".mp4")))
    slider = convert.scrubber.slider
    wait(lambda: slider.maximum() > 0 and convert.compare.after is not None)
    first = convert.compare.before
    slider.setValue(round(slider.maximum() * args.at))
    wait(lambda: convert.compare.before is not first and convert.compare.after is not None)
    wait(lambda: "reduced size" in convert.preview_state.text())
    for _ in range(30):
        app.processEvents()
        time.sleep(0.02)
    OUT.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(OUT / "convert-video.png"))
    print("wrote", OUT / "convert-video.png")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
