#!/usr/bin/python3
"""A relay stand-in that costs the machine as little as it can: it answers
SMTP on 127.0.0.1, accepts every message, keeps nothing of it, and counts
it (one byte appended to --countfile per accepted message).

bench/run.py --light-sink uses it in the load case instead of the test
harness' SMTP sink, which parses and stores every message with two fsyncs
(about 1.5 ms of CPU per receipt in Python): a real relay runs on another
host, and the load case has two CPUs for the client, both Dovecot instances
and the relay. The module's receipts are still counted and checked against
its decision events. Like Postfix and Exim by default, it offers
PIPELINING and CHUNKING (Dovecot's SMTP client then sends MAIL, RCPT and
the message in one BDAT together) and answers pipelined commands together,
in one write when the input at hand is used up; --no-chunking leaves
CHUNKING out (the message then goes in one DATA after the 354). No
STARTTLS.

CountingSink is the part of rrharness.SmtpSink's interface that the load
case uses (start, stop, pid, port, address, messages, clear). It runs
bench/count_sink.c, the same sink in C, when a C compiler is there: this
script costs about 0.7 ms of CPU per message, which is more than the
module spends on a receipt.
"""

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time

END_OF_DATA = b"\r\n.\r\n"


class SmtpCounter(asyncio.Protocol):
    def __init__(self, countfd, chunking=True):
        self.countfd = countfd
        self.chunking = chunking
        self.buf = b""
        self.in_data = False
        # BDAT: bytes of the current chunk still to come, and whether it
        # is the LAST one
        self.bdat_left = None
        self.bdat_last = False
        self.transport = None
        self.out = []

    def connection_made(self, transport):
        self.transport = transport
        transport.write(b"220 count-sink ESMTP\r\n")

    def count(self):
        os.write(self.countfd, b".")
        self.out.append(b"250 2.0.0 counted\r\n")

    def data_received(self, data):
        self.buf += data
        self.process()
        # the replies to what this read brought, in one write
        if self.out and not self.transport.is_closing():
            self.transport.write(b"".join(self.out))
        self.out = []

    def process(self):
        while True:
            if self.bdat_left is not None:
                taken = min(len(self.buf), self.bdat_left)
                self.buf = self.buf[taken:]
                self.bdat_left -= taken
                if self.bdat_left > 0:
                    return
                self.bdat_left = None
                if self.bdat_last:
                    self.count()
                else:
                    self.out.append(b"250 2.0.0 chunk ok\r\n")
                continue
            if self.in_data:
                i = self.buf.find(END_OF_DATA)
                if i == -1:
                    # keep what could be the start of the terminator
                    self.buf = self.buf[-4:]
                    return
                self.buf = self.buf[i + len(END_OF_DATA):]
                self.in_data = False
                self.count()
                continue
            i = self.buf.find(b"\r\n")
            if i == -1:
                return
            line, self.buf = self.buf[:i], self.buf[i + 2:]
            verb = line[:4].upper()
            if verb == b"EHLO":
                # as Postfix and Exim offer by default
                self.out.append(b"250-count-sink\r\n250-PIPELINING\r\n"
                                b"250 CHUNKING\r\n" if self.chunking else
                                b"250-count-sink\r\n250 PIPELINING\r\n")
            elif verb == b"HELO":
                self.out.append(b"250 count-sink\r\n")
            elif self.chunking and line[:5].upper() == b"BDAT ":
                words = line.split()
                self.bdat_left = int(words[1])
                self.bdat_last = len(words) > 2 and words[2].upper() == b"LAST"
            elif verb == b"DATA":
                self.in_data = True
                # the CRLF that ended the DATA line may be the one before
                # the terminating dot (an empty message)
                self.buf = b"\r\n" + self.buf
                self.out.append(b"354 go ahead\r\n")
            elif verb == b"QUIT":
                self.transport.write(b"".join(self.out) +
                                     b"221 2.0.0 bye\r\n")
                self.out = []
                self.transport.close()
                return
            else:
                # MAIL, RCPT, RSET, NOOP
                self.out.append(b"250 2.0.0 ok\r\n")


async def serve(args):
    countfd = os.open(args.countfile,
                      os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SmtpCounter(countfd, not args.no_chunking), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    tmp = args.portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, args.portfile)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()


class CountingSink:
    def __init__(self, directory, chunking=True):
        self.directory = os.path.abspath(directory)
        self.chunking = chunking
        self.countfile = os.path.join(self.directory, "count")
        self.portfile = os.path.join(self.directory, "port")
        self.proc = None
        self.pid = None
        self.port = None
        self.base = 0
        # which implementation runs: count_sink.c or count_sink.py
        self.kind = None

    def _command(self):
        """count_sink.c built into the directory when a C compiler is
        there (a fraction of this script's CPU per message), else this
        script."""
        source = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "count_sink.c")
        binary = os.path.join(self.directory, "count_sink")
        try:
            subprocess.run(["cc", "-O2", "-o", binary, source], check=True,
                           stdin=subprocess.DEVNULL)
        except (OSError, subprocess.CalledProcessError):
            self.kind = "count_sink.py"
            return [sys.executable, os.path.abspath(__file__)]
        self.kind = "count_sink.c"
        return [binary]

    def start(self, timeout=10):
        os.makedirs(self.directory, exist_ok=True)
        for path in (self.countfile, self.portfile):
            if os.path.exists(path):
                os.unlink(path)
        self.proc = subprocess.Popen(
            self._command() +
            ["--countfile", self.countfile, "--portfile", self.portfile] +
            ([] if self.chunking else ["--no-chunking"]),
            stdin=subprocess.DEVNULL, start_new_session=True,
            close_fds=True)
        self.pid = self.proc.pid
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.portfile):
            if self.proc.poll() is not None:
                raise RuntimeError("count sink exited (%d)"
                                   % self.proc.returncode)
            if time.monotonic() > deadline:
                raise RuntimeError("count sink did not start")
            time.sleep(0.02)
        with open(self.portfile) as f:
            self.port = int(f.read())
        return self

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def _count(self):
        try:
            return os.path.getsize(self.countfile)
        except FileNotFoundError:
            return 0

    def messages(self):
        """One entry (None: nothing is kept) per message accepted since
        the last clear()."""
        return [None] * (self._count() - self.base)

    def clear(self):
        self.base = self._count()

    def stop(self, timeout=10):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--countfile", required=True)
    p.add_argument("--portfile", required=True)
    p.add_argument("--no-chunking", action="store_true",
                   help="offer no CHUNKING (BDAT)")
    asyncio.run(serve(p.parse_args()))


if __name__ == "__main__":
    main()
