#!/usr/bin/python3
"""SMTP sink for the integration tests and the demo.

Listens on one loopback port and records what arrives in a directory:

  accept    every message is accepted (250) and stored as NNNNNN.eml (the
            raw DATA) plus NNNNNN.json (envelope: mail_from, rcpt_tos, eml,
            time, tls; rcpt_args: the RCPT TO arguments exactly as the client
            sent them); the .json is written last, so a .json always has a
            complete .eml. A message is recorded only once its 250 reply to
            DATA was written to a connection that was still open: a client
            that went away before that reply (see --data-delay) left no
            message here (the attempt is recorded as dropped-NNNNNN.json).
  reject    every RCPT TO is refused with "550 5.7.1" (a permanent failure);
            each refused recipient is recorded as rejected-NNNNNN.json.
  tempfail  every RCPT TO is refused with "451 4.3.0" (a temporary
            failure); recorded as rejected-NNNNNN.json too.
  hang      TCP connections are accepted but never greeted; each connection
            is recorded as conn-NNNNNN.json and kept open until the client
            closes it.

Options of the SMTP modes:
  --data-delay N  wait N seconds (a float) after the message data arrived
            before the reply to DATA. The data's arrival is recorded at once
            as data-NNNNNN.json (envelope only), so a test knows that the
            client now waits for the reply. The file "data-delay" in the
            directory above --dir, when it exists, overrides the option for
            every later DATA (a test changes it while the sink runs).
  --tls     offer STARTTLS with a self-signed certificate for 127.0.0.1
            and localhost, generated at start with the openssl command into
            --cert-dir (cert.pem, key.pem) unless those files exist. Every
            record says whether its session was encrypted ("tls").
  --require-tls  refuse MAIL FROM before STARTTLS (530 5.7.0).

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
import ssl
import subprocess
import sys
import time

from aiosmtpd.smtp import SMTP

SINK_HOSTNAME = "sink.test"
DELAY_FILE = "data-delay"


class Recorder:
    """Writes records atomically (temporary name, then rename)."""

    def __init__(self, directory):
        self.directory = directory
        existing = [int(name.split(".")[0].split("-")[-1])
                    for name in os.listdir(directory)
                    if name.endswith((".json", ".eml"))
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
        return self.prepare(prefix, info, raw).commit()

    def prepare(self, prefix, info, raw=None):
        """A record whose .eml (if any) is written now and whose .json is
        written by commit() (or the .eml removed by drop())."""
        return PendingRecord(self, prefix, info, raw)


class PendingRecord:
    def __init__(self, recorder, prefix, info, raw):
        self.recorder = recorder
        self.n = next(recorder.counter)
        self.base = "%s%06d" % (prefix, self.n)
        self.info = dict(info)
        self.eml = None
        if raw is not None:
            self.eml = self.base + ".eml"
            recorder._write(self.eml, raw)
            self.info["eml"] = self.eml

    def commit(self):
        info = dict(self.info, time=time.time())
        self.recorder._write(self.base + ".json", json.dumps(info).encode())
        return self.n

    def drop(self):
        if self.eml is not None:
            try:
                os.unlink(os.path.join(self.recorder.directory, self.eml))
            except FileNotFoundError:
                pass


def bare_address(address):
    """aiosmtpd gives the null sender as "<>": record it as ""."""
    if address is None:
        return None
    address = address.strip()
    if address.startswith("<") and address.endswith(">"):
        address = address[1:-1]
    return address


def session_tls(session):
    return session.ssl is not None


class RecordingSMTP(SMTP):
    """Writes a message's record right after its 250 reply to DATA went
    out, and only when the connection was still open then."""

    _pending_record = None

    async def push(self, status):
        record, self._pending_record = self._pending_record, None
        if record is None:
            return await super().push(status)
        if self.transport is None or self.transport.is_closing():
            record.drop()
            return
        if isinstance(status, str):
            status = status.encode("ascii")
        self._writer.write(status + b"\r\n")
        record.commit()
        await self._writer.drain()

    async def smtp_RCPT(self, arg):
        # rcpt_tos has the address as aiosmtpd parsed it; keep the
        # argument as the client wrote it too ("<path>" and parameters)
        before = len(self.envelope.rcpt_tos)
        await super().smtp_RCPT(arg)
        if len(self.envelope.rcpt_tos) > before:
            if not hasattr(self.envelope, "rcpt_args"):
                self.envelope.rcpt_args = []
            self.envelope.rcpt_args.append(
                self._strip_command_keyword("TO:", arg))

    async def smtp_MAIL(self, arg):
        if self.require_tls and self.session.ssl is None:
            return await self.push("530 5.7.0 Must issue a STARTTLS "
                                   "command first")
        return await super().smtp_MAIL(arg)


class AcceptHandler:
    def __init__(self, recorder, data_delay, delay_file):
        self.recorder = recorder
        self.data_delay = data_delay
        self.delay_file = delay_file

    def current_delay(self):
        try:
            with open(self.delay_file) as f:
                return float(f.read().strip() or 0)
        except (FileNotFoundError, ValueError):
            return self.data_delay

    async def handle_DATA(self, server, session, envelope):
        info = {
            "mail_from": bare_address(envelope.mail_from),
            "rcpt_tos": [bare_address(a) for a in envelope.rcpt_tos],
            "rcpt_args": getattr(envelope, "rcpt_args", []),
            "peer": list(session.peer) if session.peer else None,
            "tls": session_tls(session),
        }
        delay = self.current_delay()
        if delay > 0:
            self.recorder.record("data-", dict(info, delay=delay))
            try:
                await asyncio.sleep(delay)
            except asyncio.CancelledError:
                # the client went away while it waited for the reply
                self.recorder.record("dropped-", info)
                raise
        record = self.recorder.prepare(
            "", info, raw=envelope.original_content or envelope.content)
        if server.transport is None or server.transport.is_closing():
            record.drop()
            self.recorder.record("dropped-", info)
            return "421 4.4.2 Connection gone"
        # written by RecordingSMTP.push() right after the reply
        server._pending_record = record
        return "250 2.0.0 Message accepted"


class RejectHandler:
    def __init__(self, recorder, reply):
        self.recorder = recorder
        self.reply = reply

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        self.recorder.record("rejected-", {
            "mail_from": bare_address(envelope.mail_from),
            "rcpt_to": bare_address(address),
            "reply": self.reply,
            "tls": session_tls(session),
        })
        return self.reply


REPLIES = {
    "reject": "550 5.7.1 Delivery not authorized, message refused",
    "tempfail": "451 4.3.0 Temporary failure, try again later",
}


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


def self_signed_certificate(directory):
    """cert.pem and key.pem in directory (made with openssl if missing):
    a self-signed certificate for 127.0.0.1 and localhost."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    if not (os.path.exists(cert) and os.path.exists(key)):
        os.makedirs(directory, exist_ok=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec",
             "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", key + ".tmp", "-out", cert + ".tmp", "-days", "2",
             "-subj", "/CN=localhost",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            check=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.chmod(cert + ".tmp", 0o644)
        os.rename(key + ".tmp", key)
        os.rename(cert + ".tmp", cert)
    return cert, key


async def serve(args):
    os.makedirs(args.dir, exist_ok=True)
    recorder = Recorder(args.dir)
    loop = asyncio.get_running_loop()
    sock = bind_socket(args.host, args.port)

    tls_context = None
    if args.tls:
        cert, key = self_signed_certificate(
            args.cert_dir or os.path.dirname(os.path.abspath(args.dir)))
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(cert, key)

    if args.mode == "hang":
        server = await asyncio.start_server(
            lambda r, w: hang_connection(recorder, r, w), sock=sock)
    else:
        if args.mode == "accept":
            handler = AcceptHandler(
                recorder, args.data_delay,
                os.path.join(os.path.dirname(os.path.abspath(args.dir)),
                             DELAY_FILE))
        else:
            handler = RejectHandler(recorder, REPLIES[args.mode])

        def factory():
            smtp = RecordingSMTP(handler, hostname=SINK_HOSTNAME,
                                 ident="readreceipt test sink",
                                 timeout=args.idle_timeout,
                                 tls_context=tls_context)
            smtp.require_tls = args.require_tls
            return smtp
        server = await loop.create_server(factory, sock=sock)

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
    parser.add_argument("--mode",
                        choices=("accept", "reject", "tempfail", "hang"),
                        default="accept")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--pidfile")
    parser.add_argument("--portfile")
    parser.add_argument("--data-delay", type=float, default=0.0,
                        help="seconds to wait before the reply to DATA")
    parser.add_argument("--idle-timeout", type=float, default=60.0,
                        help="seconds of client silence before the sink "
                             "closes the connection (without a reply)")
    parser.add_argument("--tls", action="store_true",
                        help="offer STARTTLS (self-signed certificate)")
    parser.add_argument("--require-tls", action="store_true",
                        help="refuse MAIL FROM before STARTTLS")
    parser.add_argument("--cert-dir",
                        help="where cert.pem and key.pem are (made if "
                             "missing); default: the parent of --dir")
    args = parser.parse_args()
    if args.require_tls and not args.tls:
        parser.error("--require-tls needs --tls")
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
