"""Fixtures for the dataset loader tests: a faulty local HTTP server and small files in each real format.

Imported by `tests/test_download.py` and `tests/test_loaders_*.py` (kept out of the shared `conftest.py`).
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REALDATA = REPO.parent / "shared" / "realdata"


class FaultyServer:
    """A threaded HTTP server on 127.0.0.1 that serves `routes` and misbehaves on request.

    `routes` maps a path such as `"/good.bin"` to `(bytes, fault)` where fault is `None`, `"drop"` (send the
    Content-Length of the whole body, half the bytes, then close), `"stall"` (send a little, then hang) or
    `"404"`. `hits` counts requests per path.
    """

    def __init__(self):
        self.routes: dict[str, tuple[bytes, str | None]] = {}
        self.hits: dict[str, int] = {}
        self.stall_seconds = 5.0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                body, fault = server.routes.get(self.path, (b"", "404"))
                if fault == "404":
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if fault == "drop":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if fault == "stall":
                    self.wfile.write(body[:10])
                    self.wfile.flush()
                    time.sleep(server.stall_seconds)
                    return
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def faulty_server() -> Iterator[FaultyServer]:
    server = FaultyServer().start()
    try:
        yield server
    finally:
        server.stop()
