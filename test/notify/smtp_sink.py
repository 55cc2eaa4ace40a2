#!/usr/bin/python3
"""A local SMTP sink for the relay's tests (Debian's python3-aiosmtpd).

Every message accepted is saved in DIR as NNNNNN.eml, preceded by the
envelope ("X-Envelope-From:", "X-Envelope-To:" lines).  The file DIR/mode,
read for each message, says how to answer DATA: "ok" (250, the default),
"451" (temporary failure) or "550" (permanent); DIR/delay, seconds to wait
before answering (a slow server, to catch a relay mid-batch).

With USER:PASSWORD, the server requires authentication (AUTH PLAIN or
LOGIN, without TLS: loopback only) and refuses mail before it (530).

    smtp_sink.py PORT DIR [USER:PASSWORD]
"""
import asyncio
import itertools
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def read_setting(directory, name, default):
    try:
        with open(os.path.join(directory, name)) as f:
            return f.read().strip() or default
    except FileNotFoundError:
        return default


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.numbers = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(float(read_setting(self.directory, "delay", "0")))
        mode = read_setting(self.directory, "mode", "ok")
        if mode == "451":
            return "451 4.3.0 Try again later"
        if mode == "550":
            return "550 5.1.1 Mailbox unavailable"
        number = next(self.numbers)
        path = os.path.join(self.directory, "%06d.eml" % number)
        with open(path + ".tmp", "wb") as f:
            f.write(b"X-Envelope-From: " + envelope.mail_from.encode() + b"\r\n")
            f.write(b"X-Envelope-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 Message accepted"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    auth = {}
    if len(sys.argv) > 3:
        user, password = sys.argv[3].split(":", 1)

        def authenticator(server, session, envelope, mechanism, data):
            ok = data.login.decode() == user and data.password.decode() == password
            return AuthResult(success=ok)

        auth = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port, **auth)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with open(os.path.join(directory, "ready"), "w") as f:
        f.write(str(os.getpid()))
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
