"""The command line: ``python -m helpers.datasets fetch | verify | serve`` (``--help``).

``serve`` is the classroom mirror; when the course website has been built
(``course.py site``), it serves that too, under ``/site/``.
"""

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
    COURSE_ROOT,
    FILES,
    FIX,
    SUMS_NAME,
    DatasetError,
    default_data_dir,
    fetch,
    read_sums,
    verify,
)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, site: str | None = None, **kwargs: Any) -> None:
        self.site = site  # the course website's folder, served under /site/
        super().__init__(*args, **kwargs)

    def translate_path(self, path: str) -> str:
        head, _, rest = path.split("?")[0].split("#")[0].lstrip("/").partition("/")
        if self.site and head == "site":
            # The standard library's cleaning first (no way out with ../), then re-rooted.
            inside = os.path.relpath(super().translate_path("/" + rest), self.directory)
            return os.path.join(self.site, inside)
        return super().translate_path(path)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


def make_server(
    folder: Path | str, port: int = 8765, bind: str = "0.0.0.0", site: Path | str | None = None
):
    """An HTTP server that serves ``folder`` read-only (call ``serve_forever()``), and the
    course website's folder ``site`` under /site/ when given."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(
            f"{folder} is not a folder. Fetch the data first (`{FIX} fetch`), "
            "then serve the folder it wrote."
        )
    handler = functools.partial(_Handler, directory=str(folder), site=str(site) if site else None)
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
        print(
            f"{len(bad)} of {len(results)} files failed. Fetch them again with "
            f"`{FIX} fetch --to {folder}`.",
            file=sys.stderr,
        )
        return 1
    print(f"All {len(results)} files match {SUMS_NAME}.")
    return 0


def _serve(folder: Path, port: int, bind: str, site: Path) -> int:
    if read_sums(folder) is None:
        print(f"Note: {folder} has no {SUMS_NAME}; downloads are taken as served.")
    built = site if (site / "index.html").is_file() else None
    server = make_server(folder, port, bind, site=built)
    port = server.server_address[1]
    print(f"Serving {folder} on port {port}. Students set one of:")
    for address in _addresses() or ["THIS-LAPTOP-ADDRESS"]:
        print(f"  COURSE_DATA_MIRROR=http://{address}:{port}")
    if built:
        print(f"The course website is served too: http://ADDRESS:{port}/site/ (as above).")
    print("Press Ctrl+C to stop.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Stopped.")
    finally:
        server.server_close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=FIX, description="Fetch, verify and serve the course datasets."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    here = default_data_dir()  # COURSE_DATA_DIR, else the course's data/ (as the loaders)
    where = "default: $COURSE_DATA_DIR, else the course's data/ folder: %(default)s"
    p_fetch = sub.add_parser("fetch", help="download every dataset and write SHA256SUMS")
    p_fetch.add_argument("--to", type=Path, default=here, help=f"target folder ({where})")
    p_fetch.add_argument(
        "--mirror",
        default=os.environ.get("COURSE_DATA_MIRROR"),
        help="URL of a classroom mirror (default: $COURSE_DATA_MIRROR, else "
        "the Keras origin and, for the Korean corpora, their GitHub "
        "repositories; chapter 9's reviews are copied from the course's own copy "
        "either way)",
    )
    p_fetch.add_argument("--only", nargs="+", choices=sorted(FILES), help="just these datasets")
    p_verify = sub.add_parser("verify", help="check a folder against its SHA256SUMS")
    p_verify.add_argument("folder", nargs="?", type=Path, default=here, help=where)
    p_serve = sub.add_parser("serve", help="serve a data folder as the classroom mirror")
    p_serve.add_argument("--dir", type=Path, default=here, help=f"folder to serve ({where})")
    p_serve.add_argument("--port", type=int, default=8765)
    p_serve.add_argument("--bind", default="0.0.0.0", help="address to listen on")
    p_serve.add_argument(
        "--site",
        type=Path,
        default=COURSE_ROOT / "site",
        help="the course website to serve under /site/, once built",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            origin = args.mirror or "the Keras origin and GitHub"
            print(f"Fetching into {args.to} from {origin} (NSMC: from the course's own copy):")
            fetch(args.to, mirror=args.mirror, datasets=args.only)
            return 0
        if args.command == "verify":
            return _verify(args.folder)
        return _serve(args.dir, args.port, args.bind, args.site)
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
