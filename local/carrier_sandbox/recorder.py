"""A tiny HTTP server that records the webhooks it receives: a stand-in for our API in tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Received:
    method: str
    url: str  # as the sender addressed it: http://127.0.0.1:<port><path>
    headers: dict[str, str]
    params: dict[str, str]  # form parameters (first value of each)
    body: bytes


class WebhookRecorder:
    """Answers every request with `answer` (TwiML by default) and keeps what came in, in order."""

    def __init__(self, answer: str = "<?xml version='1.0' encoding='UTF-8'?><Response/>", status: int = 200) -> None:
        self.answer, self.status = answer, status
        self.received: list[Received] = []
        self._changed = threading.Condition()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self._record("POST")

            def do_GET(self) -> None:
                self._record("GET")

            def _record(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                params = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
                with recorder._changed:
                    recorder.received.append(
                        Received(method, recorder.url + self.path, dict(self.headers.items()), params, body)
                    )
                    recorder._changed.notify_all()
                payload = recorder.answer.encode()
                self.send_response(recorder.status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="webhook-recorder", daemon=True
        )

    def start(self) -> WebhookRecorder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, done: Callable[[list[Received]], bool], timeout: float = 5.0) -> list[Received]:
        """Blocks until `done(received)` holds (or the timeout passes); the requests so far."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done(self.received) and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            return list(self.received)
