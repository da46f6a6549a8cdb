"""Wake-ups between the processes sharing one SQLite store: Unix datagrams.

Every listening process binds a datagram socket in a directory that belongs to
the store file (under the temp directory, keyed by the file's real path); a
process that commits a status change sends it to every socket there. A socket
left behind by a killed process refuses the datagram and is removed. Nothing
here is durable: a lost datagram only delays a listener until its fallback poll.
SQLite's WAL already requires every process to be on one host, so a local
socket reaches them all.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import select
import socket
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from stackflow.store.base import StatusChange

MAX_DATAGRAM_BYTES = 65_000
SOCKET_SUFFIX = ".sock"


def channel_directory(database_path: str) -> Path:
    """The directory of the listening sockets of one store file."""
    key = hashlib.sha256(os.path.realpath(database_path).encode("utf-8")).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"stackflow-{os.getuid()}" / key


class DatagramChannel:
    """Sends status changes to every process listening on one store file."""

    def __init__(self, database_path: str) -> None:
        self.directory = channel_directory(database_path)
        self._sender: socket.socket | None = None
        self._lock = threading.Lock()
        self._closed = False

    def send(self, changes: Iterable[StatusChange]) -> None:
        """Announce `changes` to every listener (best effort, never blocking)."""
        try:
            names = [name for name in os.listdir(self.directory) if name.endswith(SOCKET_SUFFIX)]
        except OSError:
            return  # nobody has listened yet
        if not names:
            return
        payload = "\n".join(change.encode() for change in changes).encode("utf-8")
        with self._lock:
            if self._closed:
                return  # a job thread outliving its store's close: nobody reads this
            if self._sender is None:
                self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sender.setblocking(False)
            for name in names:
                self._send_one(self._sender, str(self.directory / name), payload)

    def close(self) -> None:
        """Close the sending socket."""
        with self._lock:
            self._closed = True
            if self._sender is not None:
                self._sender.close()
                self._sender = None

    @staticmethod
    def _send_one(sender: socket.socket, path: str, payload: bytes) -> None:
        try:
            sender.sendto(payload[:MAX_DATAGRAM_BYTES], path)
        except (ConnectionRefusedError, FileNotFoundError):
            with contextlib.suppress(OSError):
                os.unlink(path)  # its process is gone
        except OSError:
            pass  # its queue is full: it has plenty to wake up for already

    def listen(self) -> DatagramListener:
        """A listener bound in this store's directory."""
        return DatagramListener(self.directory)


class DatagramListener:
    """One process's socket for a store's status changes."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = str(directory / f"{os.getpid()}-{os.urandom(4).hex()}{SOCKET_SUFFIX}")
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(self.path)
        self._socket.setblocking(False)
        self._poller = select.poll()
        self._poller.register(self._socket, select.POLLIN)

    def wait(self, timeout_seconds: float) -> list[StatusChange] | None:
        """The changes received, waiting up to `timeout_seconds` for the first."""
        if not self._poller.poll(max(int(timeout_seconds * 1000), 0)):
            return []
        changes: list[StatusChange] = []
        while True:
            try:
                payload = self._socket.recv(MAX_DATAGRAM_BYTES)
            except BlockingIOError:
                return changes
            except OSError:
                return None  # closed under us: the caller re-reads and reopens
            for line in payload.decode("utf-8", "replace").splitlines():
                change = StatusChange.decode(line)
                if change is not None:
                    changes.append(change)

    def close(self) -> None:
        """Stop listening and remove the socket file."""
        self._socket.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
