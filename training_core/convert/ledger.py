"""Which files of an output folder GAN Studio wrote, for which photo, with which model and settings.

"Skip existing" must not mean "a file of that name exists": a conversion
with another model, more training or other settings would silently keep the
old results, and a file the user put there would pass as converted. The
ledger answers four questions per output: did we write it, from which input
(and what that photo was: a photo edited in place is converted again), with
which model, and with what fingerprint (the generator's weights and every
setting that changes the pixels, each kept too, so a rerun can say which one
changed). Outputs the ledger does not know are never replaced unless the user
asks for overwriting.

It is an append-only JSON-lines file, so a job killed at any moment leaves
it readable (a torn last line is ignored). An output is claimed before it is
moved into place and confirmed after, so a kill between the two leaves an
output that is ours but known to be unfinished: the next run redoes it.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..fsutil import atomic_write_text, read_regular_text

log = logging.getLogger(__name__)

LEDGER_NAME = ".gan-studio-outputs.jsonl"
OLD_REPORT_NAME = "gan-studio-report.json"  # GAN Studio 0.1 kept only this


@dataclass
class OutputRecord:
    input: str  # relative to the input folder
    fingerprint: str  # "" when unknown (written by GAN Studio 0.1)
    done: bool = False
    # Recorded since GAN Studio 0.2 ("" / empty where an older version wrote the line):
    model: str = ""  # the library's id of the model
    model_name: str = ""
    weights: str = ""  # Translator.weights_digest()
    settings: dict[str, str] = field(default_factory=dict)  # Translator.pixel_settings(), format, quality
    source: dict = field(default_factory=dict)  # SourceState.to_dict() of the photo it was made from

    @classmethod
    def from_line(cls, item: dict) -> OutputRecord:
        settings, source = item.get("settings") or {}, item.get("source") or {}
        if not isinstance(settings, dict) or not isinstance(source, dict):
            raise TypeError("settings and source are objects")
        return cls(
            str(item["input"]),
            str(item.get("fingerprint", "")),
            bool(item.get("done")),
            str(item.get("model", "")),
            str(item.get("model_name", "")),
            str(item.get("weights", "")),
            {str(k): str(v) for k, v in settings.items()},
            source,
        )


class OutputLedger:
    def __init__(self, output_dir: Path, input_dir: Path):
        self.output_dir = Path(output_dir)
        self.path = self.output_dir / LEDGER_NAME
        self.records: dict[str, OutputRecord] = {}
        self._lines = 0
        if os.path.lexists(self.path):
            self._load()
        else:
            self._adopt_old_report(Path(input_dir))

    # -- reading -----------------------------------------------------------------------------------
    def _load(self) -> None:
        try:
            lines = read_regular_text(self.path).splitlines()
        except OSError as exc:
            log.warning("cannot read %s (%s): earlier outputs count as unknown", self.path, exc)
            return
        for line in lines:
            self._lines += 1
            try:
                item = json.loads(line)
                self.records[str(item["output"])] = OutputRecord.from_line(item)
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
                continue  # a line torn by a kill, or damaged: that output counts as unknown

    def _adopt_old_report(self, input_dir: Path) -> None:
        """Outputs that GAN Studio 0.1 reported as converted are ours, made with unknown settings."""
        try:
            report = json.loads(read_regular_text(self.output_dir / OLD_REPORT_NAME))
            for item in report.get("files", []):
                if item.get("status") == "converted" and item.get("output"):
                    out = os.path.relpath(item["output"], self.output_dir)
                    self.records[out] = OutputRecord(os.path.relpath(item["input"], input_dir), "", True)
        except (OSError, ValueError, TypeError, AttributeError, RecursionError):
            return

    def get(self, output: str) -> OutputRecord | None:
        return self.records.get(output)

    def other_models(self, model: str) -> Counter:
        """How many finished outputs still in the folder each model other than ``model`` made, by name."""
        return Counter(
            record.model_name or record.model
            for out, record in self.records.items()
            if record.done and record.model and record.model != model and os.path.lexists(self.output_dir / out)
        )

    # -- writing -----------------------------------------------------------------------------------
    def claim(self, output: str, record: OutputRecord) -> None:
        """Record, durably, that ``output`` is about to be written as ``record`` says."""
        record.done = False
        self._append({"output": output, **asdict(record)}, sync=True)
        self.records[output] = record

    def confirm(self, output: str) -> None:
        record = self.records[output]
        record.done = True
        self._append({"output": output, **asdict(record)})

    def compact(self) -> None:
        """Rewrite the file with one line per output once superseded lines dominate."""
        if self._lines <= 2 * len(self.records) + 16:
            return
        text = "".join(self._line({"output": out, **asdict(rec)}) for out, rec in self.records.items())
        atomic_write_text(self.path, text)
        self._lines = len(self.records)

    @staticmethod
    def _line(item: dict) -> str:
        # ensure_ascii escapes any character, lone surrogates of undecodable file names included.
        return json.dumps(item, ensure_ascii=True) + "\n"

    def _append(self, item: dict, sync: bool = False) -> None:
        # Never through a link: appending to a link's target could change someone's file.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
        try:
            os.write(fd, self._line(item).encode("ascii"))
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        self._lines += 1
