"""Start-up: seconds from launching GAN Studio to its main window being shown (median of runs); with
--convert, seconds from launching ``gan-studio-convert`` (a resnet_9blocks ngf 64 model) to its end on
an empty folder: everything it does before its first photo (imports, model load, thread pools).

Each run is a fresh Python process that does what ``gan-studio`` does up to showing the window
(PyTorch is imported afterwards, in the background).

    python bench/startup.py [--runs 5] [--quick] [--convert]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

from common import ROOT, median, result

CHILD = """
import sys, time
from gan_studio.app import create_application
from gan_studio.main_window import MainWindow
from gan_studio.settings import open_settings
app = create_application()
window = MainWindow(open_settings())
window.show()
app.processEvents()
print("shown", time.time(), "torch imported" if "torch" in sys.modules else "torch not imported", flush=True)
"""


CONVERT = "import sys; from training_core.cli_convert import convert_main; sys.exit(convert_main(sys.argv[1:]))"


def convert_startup(runs: int) -> int:
    """gan-studio-convert on an empty folder: launch to exit, with and without importing PyTorch alone."""
    home = tempfile.mkdtemp(prefix="gan-studio-startup-")
    env = dict(os.environ, GAN_STUDIO_HOME=home, PYTHONPATH=str(ROOT))
    make = (
        "import torch, sys; from training_core.models.networks import define_G; "
        "from training_core.cli_models import models_main; "
        f"torch.save(define_G(3, 3, 64, 'resnet_9blocks', 'instance').state_dict(), '{home}/g.pth'); "
        f"sys.exit(models_main(['import', '{home}/g.pth', '--name', 'startup']))"
    )
    subprocess.run([sys.executable, "-c", make], env=env, check=True, capture_output=True)
    empty = tempfile.mkdtemp(prefix="gan-studio-empty-")
    times: dict[str, list[float]] = {"import torch": [], "gan-studio-convert": []}
    cpu: dict[str, list[float]] = {name: [] for name in times}  # user + system: what a busy machine changes least
    for i in range(runs):
        for name in times:
            args = ["-c", "import torch"]
            if name != "import torch":
                args = ["-c", CONVERT, "--model", "startup", "--input", empty, "--output", f"{home}/out{i}"]
            used = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([sys.executable, *args], env=env, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
            now = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime)
    torch_s, convert_s = median(times["import torch"]), median(times["gan-studio-convert"])
    torch_cpu, convert_cpu = median(cpu["import torch"]), median(cpu["gan-studio-convert"])
    print(
        f"gan-studio-convert before its first photo: {convert_s:.2f} s, {convert_cpu:.2f} CPU s (median of {runs}; "
        f"load {os.getloadavg()[0]:.1f}); a bare 'import torch' process {torch_s:.2f} s, {torch_cpu:.2f} CPU s"
    )
    result("startup_convert", convert_s=convert_s, convert_cpu_s=convert_cpu, import_torch_s=torch_s, runs=runs)
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="3 runs")
    p.add_argument("--convert", action="store_true", help="gan-studio-convert's start, not the window's")
    args = p.parse_args()
    if args.convert:
        return convert_startup(3 if args.quick else args.runs)
    env = dict(
        os.environ,
        QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        GAN_STUDIO_HOME=tempfile.mkdtemp(prefix="gan-studio-startup-"),
        PYTHONPATH=str(ROOT),
    )
    times, note = [], ""
    for _ in range(3 if args.quick else args.runs):
        start = time.time()
        out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120)
        line = next((x for x in out.stdout.splitlines() if x.startswith("shown")), None)
        if line is None:
            print(out.stdout, out.stderr)
            return 1
        times.append(float(line.split()[1]) - start)
        note = line.split(" ", 2)[2]
    print(
        f"main window shown after {median(times):.2f} s (median of {len(times)}; {note}); "
        f"runs: {', '.join(f'{t:.2f}' for t in times)}"
    )
    result("startup", window_shown_s=median(times), runs=len(times))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
