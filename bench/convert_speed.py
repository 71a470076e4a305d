"""Conversion speed, whole program: ``gan-studio-convert`` on ../shared/photos at full resolution with a
resnet_9blocks (ngf 64) generator, against a plain fp32 loop, each a fresh process timed from launch
to exit (imports, model load and thread pools included), alternated, medians.

The plain loop is what a script would do: import torch, build the generator, load the weights,
then decode, pad, translate in fp32, crop and encode one photo at a time. Then each lever alone,
in one process on the same photos (decoded beforehand), against the same fp32 forward: bf16 by
autocast and as a bf16 copy of the network, channels_last, tiles, OpenVINO (when installed) and
torch.compile (with --compile; its compile time printed). The bf16 and fp32 matrix-product
throughput of this CPU is measured in the same run, and the conversion's share of it printed.

    python bench/convert_speed.py [--quick] [--reps 3] [--limit N] [--compile] [--no-levers]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, SHARED, cpu_name, median, result

PLAIN_LOOP = """
import sys
from pathlib import Path
import torch
from training_core.convert.translator import _mirror_pad, _round_up
from training_core.data.images import iter_image_files, load_rgb
from training_core.data.transforms import to_image, to_tensor
from training_core.models.networks import define_G
net = define_G(3, 3, 64, "resnet_9blocks", "instance")
net.load_state_dict(torch.load(sys.argv[1], weights_only=True))
net.eval()  # instance norm without running statistics: each image normalised by its own
out = Path(sys.argv[3])
for path in iter_image_files(Path(sys.argv[2])):
    x = to_tensor(load_rgb(path, min_side=1))[None]
    h, w = x.shape[-2:]
    with torch.inference_mode():
        y = net(_mirror_pad(x, _round_up(h, 4), _round_up(w, 4)))[:, :, :h, :w]
    to_image(y).save(out / (path.stem + ".png"))
"""

CONVERT = "import sys; from training_core.cli_convert import convert_main; sys.exit(convert_main(sys.argv[1:]))"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"(load {one:.1f}/{five:.1f})"


def describe_cpu() -> str:
    flags = ""
    try:
        flags = next(x for x in Path("/proc/cpuinfo").read_text().splitlines() if x.startswith("flags"))
    except (OSError, StopIteration):
        pass
    features = [name for name in ("avx512f", "avx512_bf16", "amx_bf16") if f" {name}" in flags]
    extra = "" if "amx_bf16" in features else ", no AMX"
    return f"{cpu_name()}, {len(os.sched_getaffinity(0))} cores ({' '.join(features) or 'no AVX-512'}{extra})"


def timed_process(args: list[str], env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{args[:2]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return seconds


def whole_program(photos: Path, weights: Path, env: dict, reps: int) -> dict[str, float]:
    """Seconds from launch to exit, the plain loop and gan-studio-convert alternated."""
    runs: dict[str, list[float]] = {"plain": [], "gan_studio": []}
    for rep in range(reps):
        for name in runs:
            out = Path(tempfile.mkdtemp(prefix="gan-studio-convert-bench-"))
            if name == "plain":
                seconds = timed_process(["-c", PLAIN_LOOP, str(weights), str(photos), str(out)], env)
            else:
                args = ["--model", "bench", "--input", str(photos), "--output", str(out), "--format", "png"]
                seconds = timed_process(["-c", CONVERT, *args], env)
            runs[name].append(seconds)
            print(f"  run {rep + 1}: {name} {seconds:.2f} s {load()}", flush=True)
    return {name: median(values) for name, values in runs.items()}


def matmul_peak(dtype, side: int = 2048, reps: int = 5) -> float:
    """FLOP/s of a side x side matrix product in ``dtype`` (median of ``reps``)."""
    import torch

    a, b = torch.randn(side, side, dtype=dtype), torch.randn(side, side, dtype=dtype)
    a @ b
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * side**3 / median(times)


def conversion_flop(generator, sizes: list[tuple[int, int]]) -> float:
    """The generator's FLOPs over these padded sizes (its convolutions' work grows with the pixels)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.inference_mode():
        generator(torch.zeros(1, 3, 64, 64))
    return counter.get_total_flops() * sum(h * w for h, w in sizes) / (64 * 64)


def levers(generator, photos: Path, limit: int, reps: int, with_compile: bool) -> dict[str, float]:
    """Seconds for one pass over the photos (network only) with each lever alone; medians of ``reps``."""
    import copy

    import torch

    from training_core.convert.translator import TranslateOptions, Translator, _mirror_pad, _round_up
    from training_core.data.images import iter_image_files, load_rgb
    from training_core.data.transforms import to_tensor

    images = [to_tensor(load_rgb(p, min_side=1))[None] for p in list(iter_image_files(photos))[:limit]]
    padded = [_mirror_pad(x, _round_up(x.shape[2], 4), _round_up(x.shape[3], 4)) for x in images]
    # The translator's own inference copy (each image's statistics), in the default layout for the others.
    net = Translator(generator, 4, "cpu", TranslateOptions(norm="image")).net.to(memory_format=torch.contiguous_format)
    cl = copy.deepcopy(net).to(memory_format=torch.channels_last)
    bf16 = copy.deepcopy(net).to(torch.bfloat16)
    bf16_cl = copy.deepcopy(bf16).to(memory_format=torch.channels_last)

    def autocast(model, layout):
        def run(x):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return model(x.contiguous(memory_format=layout)).float()

        return run

    candidates = {
        "fp32": lambda x: net(x),
        "fp32 channels_last": lambda x: cl(x.contiguous(memory_format=torch.channels_last)),
        "bf16 autocast": autocast(net, torch.contiguous_format),
        "bf16 autocast channels_last": autocast(cl, torch.channels_last),
        "bf16 copy": lambda x: bf16(x.bfloat16()).float(),
        "bf16 copy channels_last": lambda x: bf16_cl(x.bfloat16().contiguous(memory_format=torch.channels_last)),
    }
    for tile in (256, 512):
        translator = Translator(generator, 4, "cpu", TranslateOptions(tile=tile, norm="image", precision="bf16"))
        candidates[f"bf16 today, {tile} px tiles"] = translator.translate_tensor
    try:
        from training_core.convert.openvino_runtime import openvino_network

        start = time.perf_counter()
        ov_net = openvino_network(net, Path(tempfile.mkdtemp(prefix="gan-studio-ov-")), "bf16")
        print(f"OpenVINO: network converted and compiled in {time.perf_counter() - start:.1f} s")
        candidates["OpenVINO bf16"] = ov_net
    except ImportError:
        print("OpenVINO is not installed: its lever is not measured (pip install openvino)")
    if with_compile:
        compiled = torch.compile(bf16_cl, dynamic=True)
        start = time.perf_counter()
        with torch.inference_mode():
            compiled(padded[0].bfloat16().contiguous(memory_format=torch.channels_last))
        print(f"torch.compile (inductor, dynamic shapes): first call {time.perf_counter() - start:.1f} s")
        candidates["bf16 copy channels_last, torch.compile"] = lambda x: compiled(
            x.bfloat16().contiguous(memory_format=torch.channels_last)
        ).float()
    times: dict[str, list[float]] = {name: [] for name in candidates}
    reference = []
    with torch.inference_mode():
        for name, run in candidates.items():  # warm: first-shape costs (kernel choice) stay out of the figures
            outs = [run(x) for x in padded]
            if name == "fp32":
                reference = outs
            worst = max(((o.float() - r).abs().max().item() for o, r in zip(outs, reference)), default=0.0)
            print(f"  {name}: largest difference from fp32 {worst * 127.5:.1f} grey levels")
        for _ in range(reps):
            for name, run in candidates.items():
                start = time.perf_counter()
                for x in padded:
                    run(x)
                times[name].append(time.perf_counter() - start)
    return {name: median(values) for name, values in times.items()}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="two photos, one repetition")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--limit", type=int, default=0, help="only the first N photos (0: all)")
    p.add_argument("--compile", action="store_true", help="also measure torch.compile (minutes on 2 cores)")
    p.add_argument("--no-levers", action="store_true", help="only the whole-program figures")
    p.add_argument("--levers-only", action="store_true", help="only the levers (no whole-program runs)")
    args = p.parse_args()
    limit = 2 if args.quick and not args.limit else args.limit
    reps = 1 if args.quick else args.reps
    source = SHARED / "photos"
    if not source.is_dir():
        sys.exit(f"{source} is missing: this benchmark converts ../shared/photos")

    home = Path(tempfile.mkdtemp(prefix="gan-studio-bench-home-"))
    os.environ["GAN_STUDIO_HOME"] = str(home)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    import torch

    from training_core.cli_models import models_main
    from training_core.data.images import iter_image_files, load_rgb
    from training_core.device import configure_cpu_threads
    from training_core.models.networks import define_G

    configure_cpu_threads()
    torch.manual_seed(0)
    generator = define_G(3, 3, 64, "resnet_9blocks", "instance").eval()
    weights = home / "latest_net_G.pth"
    torch.save(generator.state_dict(), weights)
    if models_main(["import", str(weights), "--name", "bench"]) != 0:
        sys.exit("importing the benchmark's generator failed")

    files = list(iter_image_files(source))[: limit or None]
    photos = source
    if limit:
        photos = home / "photos"
        photos.mkdir()
        for f in files:
            (photos / f.name).write_bytes(f.read_bytes())
    sizes = [load_rgb(f, min_side=1).size for f in files]
    padded = [(-(-h // 4) * 4, -(-w // 4) * 4) for w, h in sizes]
    flop = conversion_flop(generator, padded)
    print(f"CPU: {describe_cpu()}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{len(files)} photos, {sum(h * w for h, w in padded) / 1e6:.2f} Mpx, {flop / 1e12:.2f} TFLOP per pass")

    peak_bf16, peak_fp32 = matmul_peak(torch.bfloat16), matmul_peak(torch.float32)
    print(
        f"matrix product 2048x2048: bf16 {peak_bf16 / 1e12:.3f} TFLOP/s, fp32 {peak_fp32 / 1e12:.3f} TFLOP/s {load()}"
    )

    figures: dict[str, float | str] = {"peak_bf16_tflops": peak_bf16 / 1e12}
    if not args.levers_only:
        print("whole program, launch to exit:")
        whole = whole_program(photos, weights, env, reps)
        ratio = whole["plain"] / whole["gan_studio"]
        share = flop / whole["gan_studio"] / peak_bf16
        print(
            f"plain fp32 loop {whole['plain']:.2f} s; gan-studio-convert {whole['gan_studio']:.2f} s; "
            f"ratio {ratio:.2f}x; {flop / whole['gan_studio'] / 1e12:.3f} TFLOP/s, {share:.0%} of the bf16 matrix "
            f"product's {load()}"
        )
        figures.update(plain_s=whole["plain"], gan_studio_s=whole["gan_studio"], ratio=ratio, share_of_bf16_peak=share)
    if not args.no_levers:
        print("levers alone, the network over the photos in one process:")
        alone = levers(generator, source, len(files), reps, args.compile)
        base = alone["fp32"]
        for name, seconds in alone.items():
            print(
                f"  {name}: {seconds:.2f} s, {base / seconds:.2f}x fp32, "
                f"{flop / seconds / peak_bf16:.0%} of the bf16 peak {load()}"
            )
        figures["best_lever"] = max(alone, key=lambda name: base / alone[name]).replace(" ", "_")
    result("convert_speed", **figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
