"""One GAN Studio window per model library: a second launch hands its folder to the first and leaves.

Two windows on one library would train, rename and delete the same models
and overwrite each other's settings. The first instance listens on a local
socket named after the user and the library; a later launch that reaches it
sends its folder argument (or nothing) and exits, and the first brings its
window forward. A stale socket of a crashed instance is replaced.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)
CONNECT_MS = 500


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


class InstanceServer(QObject):
    """Listens for later launches; ``activated`` carries the folder they were given (or None)."""

    activated = Signal(object)

    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not self.server.listen(name):
            QLocalServer.removeServer(name)  # left by an instance that crashed: nobody answered it
            if not self.server.listen(name):
                log.warning(
                    "cannot listen for other launches (%s): they will open windows of their own",
                    self.server.errorString(),
                )
        self.server.newConnection.connect(self._accept)

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
