"""Where a run's events go: the library's record of the model first, then the run's listener.

The record's errors (a full or read-only disk) reach the Trainer, which stops with that message; a
listener's (the app's, the CLI's) are only logged: a broken listener must not end a night of
training. Under torchrun only rank 0 reports.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

from ..errors import GanStudioError
from .events import Event, Failed
from .recorder import LibraryRecorder

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, recorder: LibraryRecorder | None, listener: Callable[[Event], None], is_main: bool):
        self.recorder, self.listener, self.is_main = recorder, listener, is_main

    def emit(self, event: Event) -> Event:
        """To the library record (its errors stop the run: a disk problem), then to the listener."""
        if self.recorder:
            self.recorder(event)
        return self.tell(event)

    def tell(self, event: Event) -> Event:
        """To the listener alone (the record is left as it is, or is another process's)."""
        if not self.is_main:
            return event
        try:
            self.listener(event)
        except Exception:
            log.exception("an event listener failed on %s", type(event).__name__)
        return event

    def fail(
        self,
        iteration: int,
        message: str,
        exc: BaseException | None = None,
        expected: bool = True,
        resume_helps: bool = True,
    ) -> Event:
        """Record and report a failure; the traceback is logged only for an error nobody foresaw."""
        details = "".join(traceback.format_exception(exc)) if exc else ""
        if expected:
            log.error("%s", message)
            log.debug("%s", details)
        else:
            log.error("%s\n%s", message, details)
        event = Failed(iteration, message, details, resume_helps=resume_helps)
        try:
            self.emit(event)
        except GanStudioError as error:  # a full or read-only disk: the message says so already
            log.warning("could not record the failure in model.json: %s", error)
            self.tell(event)
        return event
