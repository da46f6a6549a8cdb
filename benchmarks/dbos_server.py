"""`python -m benchmarks.dbos_server`: a DBOS process serving the benchmark queue until SIGTERM.

It launches DBOS on the given system database with the workflows of
`benchmarks.dbos_side`, registers the queue with DBOS's defaults, prints
`ready <pid>` and serves until it is sent SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from types import FrameType

from dbos import DBOS

from benchmarks import dbos_side

QUEUE = "bench"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dbos_server", description=__doc__)
    parser.add_argument("--database", required=True, help="DBOS system database URL")
    parser.add_argument("--wal", action="store_true", help="SQLite: journal_mode=WAL")
    parser.add_argument("--synchronous", default="NORMAL", choices=["NORMAL", "FULL"])
    args = parser.parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    dbos_side.launch(args.database, wal=args.wal, synchronous=args.synchronous)
    try:
        DBOS.register_queue(QUEUE)
        print(f"ready {os.getpid()}", flush=True)
        stop.wait()
    finally:
        DBOS.destroy()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
