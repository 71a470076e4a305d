"""Export a model's generator to ONNX, for use outside GAN Studio (optional extra: ``pip install gan-studio[onnx]``).

The exported graph takes any width and height that are multiples of the
generator's size multiple and normalises with the same statistics choice the
app uses, so onnxruntime gives the app's output.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from pathlib import Path

import torch

from ..errors import GanStudioError
from ..fsutil import atomic_path, explain_write_error, remove_stale_temp_files
from ..models.inference_norm import inference_copy
from .model_file import load_generators
from .onnx_extras import missing_extras

log = logging.getLogger(__name__)


MARK = "gan_studio.model"  # metadata key that says a file is one of our exports
_CHATTY_LOGGERS = ("torch.onnx", "torch.export", "onnxscript", "onnx_ir")  # dozens of lines per export
# An export's temporary file exists only while the finished graph is written (seconds): one this old
# was left by an export that was killed, never by one running in another window.
STALE_EXPORT_AGE_S = 600
_ELSEWHERE = "export into another folder"


class ExportError(GanStudioError):
    pass


class ExportWriteError(ExportError):
    """The export's folder is full, read-only or cannot be written: nothing was written."""


def check_target(path: Path, overwrite: bool = False) -> None:
    """Refuse a name that is no .onnx file, and any existing file that is not our export unless ``overwrite``."""
    if path.suffix.lower() != ".onnx":
        raise ExportError(
            f"{path.name}: the export's file name must end in .onnx (an image or any other "
            "file is never replaced by an export)"
        )
    if path.is_dir():
        raise ExportError(f"{path} is a folder: name the .onnx file to write")
    if os.path.lexists(path) and not overwrite and not _our_export(path):
        raise ExportError(
            f"{path} already exists and is not a GAN Studio export: choose another name, or "
            "allow replacing it (--overwrite)"
        )


def _our_export(path: Path) -> bool:
    try:
        import onnx

        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # not ONNX at all, unreadable, or a link to nowhere
        return False
    return any(prop.key == MARK for prop in model.metadata_props)


@contextlib.contextmanager
def _quiet(names):
    """The exporter's progress chatter stays out of the user's log; its warnings and errors do not."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def export_onnx(entry, path: Path, direction: str = "AtoB", norm: str | None = None, overwrite: bool = False) -> Path:
    path = Path(path)
    check_target(path, overwrite)
    if missing := missing_extras():
        raise ExportError(missing)
    config, generators = load_generators(entry.weights_path)
    if direction not in generators:
        raise ExportError(f"{entry.name} has no {direction} generator")
    norm = norm or entry.require().inference_norm
    net = inference_copy(generators[direction], norm)
    multiple = config.size_multiple
    # Width and height are free, in steps of the multiple the generator needs.
    rows, cols = torch.export.Dim("rows", min=1, max=64), torch.export.Dim("cols", min=1, max=64)
    example = torch.zeros(1, config.input_nc if direction == "AtoB" else config.output_nc, multiple * 2, multiple * 2)
    _check_writable(path.parent)
    with _quiet(_CHATTY_LOGGERS):
        program = torch.onnx.export(
            net,
            (example,),
            dynamo=True,
            input_names=["input"],
            output_names=["output"],
            dynamic_shapes=({2: multiple * rows, 3: multiple * cols},),
            verbose=False,
        )
    program.model.metadata_props[MARK] = f"{entry.name} ({direction})"
    removed = remove_stale_temp_files(path.parent, recursive=False, older_than_s=STALE_EXPORT_AGE_S, suffix=".onnx")
    if removed:
        log.info("removed %d unfinished exports left by an interrupted export in %s", removed, path.parent)
    try:
        with atomic_path(path) as tmp:  # made only now, so that it never waits through the export
            program.save(str(tmp))
    except OSError as exc:
        raise _write_error(path, path.parent, exc) from None
    log.info("exported %s (%s) to %s", entry.name, direction, path)
    return path


def _check_writable(folder: Path) -> None:
    """A read-only or missing folder is told before the export works for a minute, not after."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            raise PermissionError(errno.EROFS if _read_only(folder) else errno.EACCES, "cannot write there")
    except OSError as exc:
        raise _write_error(folder, folder, exc) from None


def _write_error(target: Path, folder: Path, exc: OSError) -> ExportWriteError:
    return ExportWriteError(f"cannot export to {target}: {explain_write_error(exc, folder, elsewhere=_ELSEWHERE)}")


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs on Windows
        return False
