#!/usr/bin/python3
"""A small imaptest-like IMAP load generator (loopback only).

imaptest is not packaged in Debian 12, so the benchmark brings its own:
one asyncio process, one IMAP connection per user, raw IMAP over a socket.
Every session logs in and SELECTs INBOX (not timed), then, until the time
is up, loops:

    SELECT INBOX
    FETCH r (BODY[])       x --fetches, r random (sets \\Seen)
    STORE r +FLAGS/-FLAGS  one random message, \\Flagged or \\Seen
    NOOP

and counts the commands that were answered OK. Bounded in time
(--duration, plus a hard limit per command) and in count (--max-commands
per session); it only connects to 127.0.0.1. For the messages that ask
for a receipt (receipt_seqs, the caller's knowledge of the mailbox) it
counts how many were first made \\Seen by opening them and how many by a
STORE: what a server with the readreceipt module sends receipts for
(clearing \\Seen never causes a second receipt).

Used by bench/run.py (case "load"); also runs on its own:

    bench/imap_load.py --port 10143 --users u1@example.com,u2@example.com \\
        --password secret --messages 200 --duration 20
"""

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import time

LOOPBACK = ("127.0.0.1", "localhost", "::1")
LITERAL_RE = re.compile(rb"\{(\d+)\}\r\n$")
# a command that takes longer than this fails the session
COMMAND_TIMEOUT = 30.0


class ImapError(Exception):
    pass


class Session:
    """One IMAP connection, one command at a time."""

    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.tag = 0

    async def read_response(self):
        """One line of the server, with its literals inlined: (line,
        [literal bytes...])."""
        parts = []
        literals = []
        while True:
            line = await self.reader.readline()
            if not line:
                raise ImapError("connection closed by the server")
            parts.append(line)
            m = LITERAL_RE.search(line)
            if not m:
                return b"".join(parts), literals
            literals.append(await self.reader.readexactly(int(m.group(1))))

    async def command(self, text):
        """Send one command; return (untagged lines, literals). Raises
        ImapError unless the tagged answer is OK."""
        self.tag += 1
        tag = b"L%d" % self.tag
        self.writer.write(tag + b" " + text.encode() + b"\r\n")
        untagged = []
        literals = []
        while True:
            line, lits = await asyncio.wait_for(self.read_response(),
                                                COMMAND_TIMEOUT)
            literals.extend(lits)
            if line.startswith(tag + b" "):
                if not line[len(tag) + 1:].startswith(b"OK"):
                    raise ImapError("%s: %s" % (text, line.decode(
                        "ascii", "replace").strip()))
                return untagged, literals
            untagged.append(line)


async def open_session(host, port, user, password, messages):
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port), COMMAND_TIMEOUT)
    s = Session(reader, writer)
    greeting = await asyncio.wait_for(reader.readline(), COMMAND_TIMEOUT)
    if not greeting.startswith(b"* OK"):
        raise ImapError("no greeting: %r" % greeting)
    await s.command('LOGIN "%s" "%s"' % (user, password))
    untagged, _ = await s.command("SELECT INBOX")
    exists = [int(line.split()[1]) for line in untagged
              if line.rstrip().endswith(b"EXISTS")]
    if not exists or exists[0] != messages:
        raise ImapError("%s: SELECT INBOX found %r messages, expected %d"
                        % (user, exists, messages))
    return s


class Stats:
    def __init__(self):
        self.count = {}
        self.latency = {}
        # \Seen as this (the only) session of the mailbox set it, and how
        # each message that asks for a receipt got \Seen first: "open"
        # (FETCH BODY[]) or "mark" (STORE); a receipt is sent at most once
        self.seen = set()
        self.first_seen = {}
        self.body_bytes = 0

    def set_seen(self, seq, how, receipt_seqs):
        if seq not in self.seen:
            self.seen.add(seq)
            if seq in receipt_seqs:
                self.first_seen.setdefault(seq, how)

    def add(self, kind, seconds):
        self.count[kind] = self.count.get(kind, 0) + 1
        self.latency.setdefault(kind, []).append(seconds)


async def session_loop(s, stats, rng, messages, fetches, receipt_seqs,
                       deadline, max_commands):
    done = 0

    async def timed(kind, text):
        nonlocal done
        t0 = time.perf_counter()
        result = await s.command(text)
        stats.add(kind, time.perf_counter() - t0)
        done += 1
        return result

    while time.monotonic() < deadline and done < max_commands:
        await timed("SELECT", "SELECT INBOX")
        for _ in range(fetches):
            seq = rng.randint(1, messages)
            _, literals = await timed("FETCH", "FETCH %d (BODY[])" % seq)
            if not literals or len(literals[0]) < 100:
                raise ImapError("FETCH %d (BODY[]) returned no body" % seq)
            stats.body_bytes += len(literals[0])
            stats.set_seen(seq, "open", receipt_seqs)
            if time.monotonic() >= deadline:
                break
        if time.monotonic() >= deadline:
            break
        seq = rng.randint(1, messages)
        op, flag = rng.choice("+-"), rng.choice((r"\Flagged", r"\Seen"))
        await timed("STORE", "STORE %d %sFLAGS (%s)" % (seq, op, flag))
        if flag == r"\Seen":
            if op == "+":
                stats.set_seen(seq, "mark", receipt_seqs)
            else:
                stats.seen.discard(seq)
        await timed("NOOP", "NOOP")


async def run_load(port, users, password, messages, duration,
                   fetches=3, receipt_seqs=(), host="127.0.0.1",
                   max_commands=1000000, seed=1, on_start=None,
                   on_end=None):
    """Run the load; returns a dict of results. on_start/on_end are called
    (no arguments) right before the timed part starts and right after it
    ended, with every session still logged in."""
    if host not in LOOPBACK:
        raise ValueError("loopback only: %s" % host)
    receipt_seqs = frozenset(receipt_seqs)
    sessions = await asyncio.gather(*(
        open_session(host, port, user, password, messages)
        for user in users))
    stats = [Stats() for _ in users]
    if on_start is not None:
        on_start()
    t0 = time.perf_counter()
    deadline = time.monotonic() + duration
    await asyncio.gather(*(
        session_loop(s, st, random.Random(seed * 1000 + i), messages,
                     fetches, receipt_seqs, deadline, max_commands)
        for i, (s, st) in enumerate(zip(sessions, stats))))
    elapsed = time.perf_counter() - t0
    if on_end is not None:
        on_end()
    for s in sessions:
        try:
            await s.command("LOGOUT")
        except (ImapError, asyncio.TimeoutError, ConnectionError):
            pass
        s.writer.close()
    count = {}
    latency = {}
    for st in stats:
        for kind, n in st.count.items():
            count[kind] = count.get(kind, 0) + n
            latency.setdefault(kind, []).extend(st.latency[kind])
    total = sum(count.values())
    return {
        "elapsed": elapsed,
        "commands": total,
        "commands_per_second": total / elapsed,
        "count": count,
        "median_latency": {k: statistics.median(v)
                           for k, v in latency.items()},
        # messages that ask for a receipt and were first made \Seen by
        # opening them / by a STORE: with the module, one receipt for each
        # of the first, and for each of the second if marking sends one
        "receipt_opens": sum(list(st.first_seen.values()).count("open")
                             for st in stats),
        "receipt_marks": sum(list(st.first_seen.values()).count("mark")
                             for st in stats),
        "body_bytes": sum(st.body_bytes for st in stats),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--users", required=True,
                   help="comma-separated user names, one session each")
    p.add_argument("--password", default="secret")
    p.add_argument("--messages", type=int, required=True,
                   help="messages in each user's INBOX (checked)")
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--fetches", type=int, default=3,
                   help="FETCH BODY[] per loop (default 3)")
    p.add_argument("--max-commands", type=int, default=1000000,
                   help="per session (default 1000000)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    if args.duration <= 0 or args.duration > 3600:
        p.error("--duration: 0 < seconds <= 3600")
    result = asyncio.run(run_load(
        args.port, args.users.split(","), args.password, args.messages,
        args.duration, fetches=args.fetches, host=args.host,
        max_commands=args.max_commands, seed=args.seed))
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
