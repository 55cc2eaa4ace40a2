#!/usr/bin/python3
"""A local HTTP server standing in for Slack's incoming webhooks.

Each POST body is saved in DIR as NNNNNN-NAME.json (NAME: the last part of
the path).  Paths: /ok answers 200 "ok"; /flaky answers 500 the first time
(per path), then 200; /busy answers 429 with Retry-After: 1 the first
time, then 200; /gone answers 404 "no_service", as Slack does for a
removed webhook.  Failed requests are saved too, as NNNNNN-NAME.refused.

    http_sink.py PORT DIR
"""
import itertools
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

numbers = itertools.count(1)
seen = set()
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        name = self.path.rstrip("/").rsplit("/", 1)[-1] or "root"
        with lock:
            number = next(numbers)
            first = self.path not in seen
            seen.add(self.path)
        code, text, extra = 200, b"ok", {}
        if name.startswith("flaky") and first:
            code, text = 500, b"internal_error"
        elif name.startswith("busy") and first:
            code, text, extra = 429, b"rate_limited", {"Retry-After": "1"}
        elif name.startswith("gone"):
            code, text = 404, b"no_service"
        suffix = "json" if code == 200 else "refused"
        path = os.path.join(self.server.directory, "%06d-%s.%s" % (number, name, suffix))
        with open(path + ".tmp", "wb") as f:
            f.write(body)
        os.rename(path + ".tmp", path)
        self.send_response(code)
        for key, value in extra.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, *args):
        pass


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.directory = directory
    with open(os.path.join(directory, "ready"), "w") as f:
        f.write(str(os.getpid()))
    server.serve_forever()


if __name__ == "__main__":
    main()
