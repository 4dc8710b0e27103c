"""The command line: ``python -m helpers.datasets fetch | verify | serve`` (``--help``)."""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from helpers.data.store import (
    FILES,
    FIX,
    REPO_DATA_DIR,
    SUMS_NAME,
    DatasetError,
    fetch,
    read_sums,
    verify,
)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


def make_server(folder: Path | str, port: int = 8765, bind: str = "0.0.0.0"):
    """An HTTP server that serves ``folder`` read-only (call ``serve_forever()``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder} is not a folder. Fetch the data first (`{FIX} fetch`), "
                           "then serve the folder it wrote.")
    handler = functools.partial(_Handler, directory=str(folder))
    return http.server.ThreadingHTTPServer((bind, port), handler)


def _addresses() -> list[str]:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return sorted({info[4][0] for info in infos if not info[4][0].startswith("127.")})


def _verify(folder: Path) -> int:
    results = verify(folder)
    for rel, status in results:
        print(f"{status:<9} {rel}")
    bad = [rel for rel, status in results if status != "OK"]
    if bad:
        print(f"{len(bad)} of {len(results)} files failed. Fetch them again with "
              f"`{FIX} fetch --to {folder}`.", file=sys.stderr)
        return 1
    print(f"All {len(results)} files match {SUMS_NAME}.")
    return 0


def _serve(folder: Path, port: int, bind: str) -> int:
    if read_sums(folder) is None:
        print(f"Note: {folder} has no {SUMS_NAME}; downloads are taken as served.")
    server = make_server(folder, port, bind)
    port = server.server_address[1]
    print(f"Serving {folder} on port {port}. Students set one of:")
    for address in _addresses() or ["THIS-LAPTOP-ADDRESS"]:
        print(f"  COURSE_DATA_MIRROR=http://{address}:{port}")
    print("Press Ctrl+C to stop.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Stopped.")
    finally:
        server.server_close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=FIX, description="Fetch, verify and serve the "
                                     "course datasets.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_fetch = sub.add_parser("fetch", help="download every dataset and write SHA256SUMS")
    p_fetch.add_argument("--to", type=Path, default=REPO_DATA_DIR, help="target folder")
    p_fetch.add_argument("--mirror", default=os.environ.get("COURSE_DATA_MIRROR"),
                         help="URL of a classroom mirror (default: $COURSE_DATA_MIRROR, else "
                         "the Keras origin and, for the Korean corpora, their GitHub "
                         "repositories)")
    p_fetch.add_argument("--only", nargs="+", choices=sorted(FILES), help="just these datasets")
    p_verify = sub.add_parser("verify", help="check a folder against its SHA256SUMS")
    p_verify.add_argument("folder", nargs="?", type=Path, default=REPO_DATA_DIR)
    p_serve = sub.add_parser("serve", help="serve a data folder as the classroom mirror")
    p_serve.add_argument("--dir", type=Path, default=REPO_DATA_DIR, help="folder to serve")
    p_serve.add_argument("--port", type=int, default=8765)
    p_serve.add_argument("--bind", default="0.0.0.0", help="address to listen on")
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            print(f"Fetching into {args.to} from {args.mirror or 'the Keras origin and GitHub'}:")
            fetch(args.to, mirror=args.mirror, datasets=args.only)
            return 0
        if args.command == "verify":
            return _verify(args.folder)
        return _serve(args.dir, args.port, args.bind)
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
