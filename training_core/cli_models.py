"""``gan-studio-models``: list, show, rename, delete, import and export the library's models."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .cli_common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, quiet_exits, resume_command
from .errors import GanStudioError
from .families import family
from .store import DiskError, ModelEntry, ModelLibrary


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gan-studio-models", description="The library of trained models.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every model with its state")
    show = sub.add_parser("show", help="everything about one model")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="the model's record as JSON")
    rename = sub.add_parser("rename", help="give a model a new name")
    rename.add_argument("name")
    rename.add_argument("new_name")
    delete = sub.add_parser("delete", help="delete a model and its run")
    delete.add_argument("name")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    imp = sub.add_parser("import", help="import generator weights of the reference pix2pix/CycleGAN code")
    imp.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="latest_net_G.pth (pix2pix), or latest_net_G_A.pth latest_net_G_B.pth (CycleGAN)",
    )
    imp.add_argument("--name", required=True)
    export = sub.add_parser("export", help="export a model's generator")
    export.add_argument("name")
    export.add_argument("--onnx", type=Path, required=True, metavar="OUT", help="the .onnx file to write")
    export.add_argument("--direction", choices=("AtoB", "BtoA"), default="AtoB")
    export.add_argument(
        "--overwrite", action="store_true", help="replace an existing .onnx file that is not a GAN Studio export"
    )
    return p


def _list(library: ModelLibrary) -> None:
    entries = library.list()
    if not entries:
        print(f"no models yet in {library.root}")
        return
    rows = [("NAME", "FAMILY", "STATE", "ITERATIONS", "UPDATED")]
    for e in entries:
        r = e.record
        if r is None:
            rows.append((e.id, "?", f"damaged: {e.damage}", "", ""))
            continue
        progress = "imported" if r.imported else f"{r.iterations}/{r.total_iterations}"
        rows.append((r.name, r.family, e.state, progress, r.updated.replace("T", " ")[:16]))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])


def _scores(val: object) -> dict[str, float]:
    """The held-out scores that are numbers; model.json is user data, and "val" may hold anything."""
    if not isinstance(val, dict):
        return {}
    return {k: v for k, v in val.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _show(entry: ModelEntry) -> None:
    """A model in words: what it is, how far it got, what it learned from."""
    r = entry.require()
    model = r.model_config()
    lines = [
        f"{r.name}  ({r.family}, {entry.state})",
        f"  folder      {entry.path}",
        f"  generator   {model.netG}, ngf {model.ngf}, {model.norm} norm",
        "  progress    " + ("imported" if r.imported else f"{r.iterations} of {r.total_iterations} iterations"),
        f"  direction   {'both ways' if family(r.family).both_ways else r.direction}",
        f"  created     {r.created}",
        f"  updated     {r.updated}",
    ]
    if r.dataset:
        lines.append(
            f"  dataset     {r.dataset.get('root', '?')} ({r.dataset.get('layout', '?')}, "
            f"{r.dataset.get('train', '?')} training items)"
        )
    if scores := _scores(r.metrics.get("val")):
        lines.append("  validation  " + ", ".join(f"{k} {v:.4g}" for k, v in scores.items()))
    if r.last_error:
        lines.append(f"  last error  {r.last_error}")
    if entry.can_resume:
        lines.append(f"  continue    {resume_command(r.name)}")
    print("\n".join(lines))


def _delete(library: ModelLibrary, name: str, yes: bool) -> int:
    entry = library.get(name)
    if not yes:
        if not sys.stdin.isatty():
            logging.error("error: deleting needs --yes when not run from a terminal")
            return EXIT_USAGE
        if input(f"Delete {entry.name!r} and all its checkpoints in {entry.path}? [y/N] ").strip().lower() != "y":
            print("kept")
            return EXIT_OK
    library.delete(entry.id)
    print(f"deleted {entry.name!r}")
    return EXIT_OK


def _export(library: ModelLibrary, args: argparse.Namespace) -> int:
    from .convert.onnx_export import ExportWriteError, export_onnx

    try:
        path = export_onnx(library.get(args.name), args.onnx, args.direction, overwrite=args.overwrite)
    except ExportWriteError as exc:  # full or read-only: nothing was written
        logging.error("error: %s", exc)
        return EXIT_FAILED
    print(f"exported to {path}")
    return EXIT_OK


@quiet_exits
def models_main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = _parser().parse_args(argv)
    library = ModelLibrary()
    try:
        if args.command == "list":
            _list(library)
        elif args.command == "show":
            e = library.get(args.name)
            if args.json:
                r = e.require()
                # With what model.json holds, the values derived from it: the state the lock tells, and the
                # direction and length that format 1 also kept at the top level (scripts read them there).
                derived = {"state": e.state, "path": str(e.path), "direction": r.direction}
                print(json.dumps({**r.to_dict(), **derived, "total_iterations": r.total_iterations}, indent=2))
            else:
                _show(e)
        elif args.command == "rename":
            print(f"renamed to {library.rename(args.name, args.new_name).name!r}")
        elif args.command == "delete":
            return _delete(library, args.name, args.yes)
        elif args.command == "import":
            from .library_import import import_reference

            entry = import_reference(args.paths, args.name, library)
            print(f"imported {entry.name!r} ({entry.require().model['netG']}, {entry.family}) into {entry.path}")
        elif args.command == "export":
            return _export(library, args)
    except DiskError as exc:  # full or read-only: nothing was changed
        logging.error("error: %s", exc)
        return EXIT_FAILED
    except GanStudioError as exc:
        logging.error("error: %s", exc)
        return EXIT_USAGE
    return EXIT_OK
