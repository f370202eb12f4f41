#!/usr/bin/python3
"""SMTP sink for the integration tests and the demo.

Listens on one loopback port and records what arrives in a directory:

  accept  every message is accepted (250) and stored as NNNNNN.eml (the raw
          DATA) plus NNNNNN.json (envelope: mail_from, rcpt_tos, eml, time);
          the .json is written last, so a .json always has a complete .eml.
  reject  every RCPT TO is refused with "550 5.7.1" (a permanent failure);
          each refused recipient is recorded as rejected-NNNNNN.json.
  hang    TCP connections are accepted but never greeted; each connection
          is recorded as conn-NNNNNN.json and kept open until the client
          closes it.

The port is chosen by the kernel unless --port is given; it is written to
--portfile once the socket listens, and the pid to --pidfile. SIGTERM and
SIGINT stop the sink and remove the pid file.
"""

import argparse
import asyncio
import itertools
import json
import os
import signal
import socket
import sys
import time

from aiosmtpd.smtp import SMTP

SINK_HOSTNAME = "sink.test"


class Recorder:
    """Writes records atomically (temporary name, then rename)."""

    def __init__(self, directory):
        self.directory = directory
        existing = [int(name.split(".")[0].split("-")[-1])
                    for name in os.listdir(directory)
                    if name.endswith(".json")
                    and name.split(".")[0].split("-")[-1].isdigit()]
        self.counter = itertools.count(max(existing, default=0) + 1)

    def _write(self, name, data):
        path = os.path.join(self.directory, name)
        tmp = os.path.join(self.directory, ".tmp-" + name)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)

    def record(self, prefix, info, raw=None):
        n = next(self.counter)
        base = "%s%06d" % (prefix, n)
        if raw is not None:
            self._write(base + ".eml", raw)
            info = dict(info, eml=base + ".eml")
        info = dict(info, time=time.time())
        self._write(base + ".json", json.dumps(info).encode())
        return n


def bare_address(address):
    """aiosmtpd gives the null sender as "<>": record it as ""."""
    if address is None:
        return None
    address = address.strip()
    if address.startswith("<") and address.endswith(">"):
        address = address[1:-1]
    return address


class AcceptHandler:
    def __init__(self, recorder):
        self.recorder = recorder

    async def handle_DATA(self, server, session, envelope):
        self.recorder.record("", {
            "mail_from": bare_address(envelope.mail_from),
            "rcpt_tos": [bare_address(a) for a in envelope.rcpt_tos],
            "peer": list(session.peer) if session.peer else None,
        }, raw=envelope.original_content or envelope.content)
        return "250 2.0.0 Message accepted"


class RejectHandler:
    def __init__(self, recorder):
        self.recorder = recorder

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        self.recorder.record("rejected-", {
            "mail_from": bare_address(envelope.mail_from),
            "rcpt_to": bare_address(address),
        })
        return "550 5.7.1 Delivery not authorized, message refused"


async def hang_connection(recorder, reader, writer):
    recorder.record("conn-", {"peer": list(writer.get_extra_info("peername"))})
    try:
        # Never send a greeting; wait until the client gives up.
        while await reader.read(4096):
            pass
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


def bind_socket(host, port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(64)
    sock.setblocking(False)
    return sock


def write_file(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


async def serve(args):
    os.makedirs(args.dir, exist_ok=True)
    recorder = Recorder(args.dir)
    loop = asyncio.get_running_loop()
    sock = bind_socket(args.host, args.port)

    if args.mode == "hang":
        server = await asyncio.start_server(
            lambda r, w: hang_connection(recorder, r, w), sock=sock)
    else:
        handler = (AcceptHandler(recorder) if args.mode == "accept"
                   else RejectHandler(recorder))
        server = await loop.create_server(
            lambda: SMTP(handler, hostname=SINK_HOSTNAME,
                         ident="readreceipt test sink", timeout=60),
            sock=sock)

    stop = loop.create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set_result, None)

    if args.pidfile:
        write_file(args.pidfile, "%d\n" % os.getpid())
    if args.portfile:
        write_file(args.portfile, "%d\n" % sock.getsockname()[1])

    try:
        await stop
    finally:
        server.close()
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except FileNotFoundError:
                pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", required=True,
                        help="directory where messages are stored")
    parser.add_argument("--mode", choices=("accept", "reject", "hang"),
                        default="accept")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--pidfile")
    parser.add_argument("--portfile")
    args = parser.parse_args()
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
