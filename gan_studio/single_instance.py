"""One GAN Studio window per model library: a later launch hands its folder to the first and leaves.

Two windows on one library would train, rename and delete the same models
and overwrite each other's settings. The first instance listens on a local
socket named after the user and the library; a later launch that reaches it
sends its folder argument (or nothing) and exits, and the first brings its
window forward.

Which launch is the first is decided by an OS lock on a file in the library's
folder, not by the socket: "remove a stale socket, then listen" is two steps,
and launches started together could each remove the other's socket and listen
in turn. The kernel drops the lock when its process dies (SIGKILL included), so
a crashed window leaves a lock anyone can take, and its stale socket is replaced.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from training_core.errors import GanStudioError
from training_core.runlock import FolderLock

log = logging.getLogger(__name__)
CONNECT_MS = 500
LOCK_NAME = ".gan-studio-window.lock"
# How long a launch that lost the race waits for the winner to listen (it does so before its window exists).
WINNER_LISTENS_WITHIN_S = 20.0
RETRY_S = 0.05


class AlreadyOpen(GanStudioError):
    """Another launch holds the window lock of this library."""


class WindowLock(FolderLock):
    def _busy(self, holder: str) -> GanStudioError:
        return AlreadyOpen(f"GAN Studio is already open on this model library ({holder})")


def server_name(library_root: str) -> str:
    key = f"{getpass.getuser()}|{library_root}"
    return "gan-studio-" + hashlib.sha1(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def hand_over(name: str, folder: str | None) -> bool:
    """Give ``folder`` to a running instance; True if one took it (then this launch should end)."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_MS):
        return False
    socket.write((json.dumps({"folder": folder}) + "\n").encode())
    socket.waitForBytesWritten(CONNECT_MS)
    socket.disconnectFromServer()
    return True


def claim_library(home: Path, folder: str | None, wait_s: float = WINNER_LISTENS_WITHIN_S):
    """This launch's InstanceServer when it is the library's window, or None when another took ``folder``.

    Launches started together all come here: one takes the lock and listens, the others
    keep offering their folder until it answers.
    """
    name = server_name(str(home))
    lock = WindowLock(Path(home) / LOCK_NAME, about="the GAN Studio window")
    deadline = time.monotonic() + wait_s
    while True:
        if hand_over(name, folder):
            return None
        try:
            lock.acquire()
        except AlreadyOpen:
            if time.monotonic() < deadline:
                time.sleep(RETRY_S)  # the winner is between taking the lock and listening
                continue
            log.warning("the GAN Studio window of this library does not answer: this launch opens its own")
            return InstanceServer(name, replace_stale=False)  # its socket is alive: leave it be
        except GanStudioError as exc:  # a read-only or missing home: the socket alone, as best it can
            log.warning("cannot lock the library's window (%s): launches at the same moment may open two", exc)
            return InstanceServer(name)
        return InstanceServer(name, lock)


class InstanceServer(QObject):
    """Listens for later launches; ``activated`` carries the folder they were given (or None).

    Holding ``lock`` (the library's window lock) it owns the name: a server already there is a
    dead instance's leftover and is removed (``replace_stale``).
    """

    activated = Signal(object)

    def __init__(self, name: str, lock: WindowLock | None = None, replace_stale: bool = True, parent=None):
        super().__init__(parent)
        self.lock = lock  # held for as long as this object lives; the kernel drops it at exit
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not self.server.listen(name) and replace_stale:
            QLocalServer.removeServer(name)  # left by an instance that crashed: nobody answered it
            if not self.server.listen(name):
                log.warning(
                    "cannot listen for other launches (%s): they will open windows of their own",
                    self.server.errorString(),
                )
        self.server.newConnection.connect(self._accept)

    def close(self) -> None:
        self.server.close()
        if self.lock is not None:
            self.lock.release()

    def _accept(self) -> None:
        while (socket := self.server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            try:
                message = json.loads(bytes(socket.readLine()).decode())
                folder = message.get("folder") if isinstance(message, dict) else None
            except ValueError:
                continue
            self.activated.emit(folder if isinstance(folder, str) else None)
