"""``gan-studio-dataset make-pairs``: training pairs from one folder of artworks.

Exit codes: 0 the dataset was made (artworks that could not be used are listed
in its report), 2 bad folders or settings, or no usable artwork (nothing is
written), 130 cancelled.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import threading
from pathlib import Path

from .cli_common import EXIT_OK, EXIT_PAUSED, EXIT_USAGE, ctrl_c_cancels, quiet_exits
from .errors import GanStudioError
from .humanize import display_path

log = logging.getLogger("gan_studio.dataset")


def _parser() -> argparse.ArgumentParser:
    from .data import pair_makers as pm

    d = pm.PairSettings()
    p = argparse.ArgumentParser(prog="gan-studio-dataset", description=__doc__.split("\n\n")[0])
    commands = p.add_subparsers(dest="command", required=True)
    make = commands.add_parser(
        "make-pairs",
        help="make a paired dataset (A: the made input, B: the artwork) from a folder of artworks",
        description="Each artwork becomes the target; its lines, lightness, flat colours or a blurred copy the "
        "input a pix2pix model learns to paint over in the artworks' style.",
    )
    make.add_argument("folder", type=Path, help="the folder of artworks (only read)")
    make.add_argument("--kind", choices=pm.KINDS, default=d.kind, help="what the input side is (default: %(default)s)")
    make.add_argument("--output", required=True, type=Path, help="the dataset's folder (new, or an earlier one)")
    make.add_argument("--val", type=int, default=10, metavar="PERCENT", help="share held out (default: %(default)s)")
    make.add_argument("--detail", type=int, default=d.detail, help=f"lines: {pm.DETAIL[0]} (few) to {pm.DETAIL[1]}")
    make.add_argument("--line-weight", type=int, default=d.line_weight, help="lines: stroke width in pixels")
    make.add_argument("--colours", type=int, default=d.colours, help="flat: the number of colours")
    make.add_argument("--strength", type=int, default=d.strength, help="blur: 1 (light) to 10 (heavy)")
    make.add_argument(
        "--working-size",
        type=int,
        default=d.working_side,
        help="larger artworks are made at this many pixels on their longer side (default: %(default)s)",
    )
    return p


@quiet_exits
def dataset_main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = _parser().parse_args(argv)
    from .data.make_pairs import REPORT, make_pairs
    from .data.pair_makers import PairSettings

    cancel = threading.Event()
    tty = sys.stderr.isatty()

    def progress(done: int, total: int, name: str) -> None:
        if tty:
            sys.stderr.write(f"\r{done}/{total}  {display_path(name)}\033[K")

    try:
        settings = PairSettings(
            kind=args.kind,
            detail=args.detail,
            line_weight=args.line_weight,
            colours=args.colours,
            strength=args.strength,
            working_side=args.working_size,
        ).validate()
        with ctrl_c_cancels(cancel):
            report = make_pairs(args.folder, args.output, settings, args.val, progress, cancel)
    except GanStudioError as exc:
        log.error("error: %s", exc)
        return EXIT_USAGE
    finally:
        if tty:
            sys.stderr.write("\r\033[K")
    for name, why in report.rejected.items():
        log.warning("not used: %s: %s", display_path(name), why)
    log.info("%s%s; report: %s", "cancelled: " if report.cancelled else "", report.summary(), report.output / REPORT)
    if report.cancelled:
        return EXIT_PAUSED
    log.info("train on it: gan-studio-train --data %s", shlex.quote(str(report.output)))
    return EXIT_OK
