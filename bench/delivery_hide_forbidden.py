#!/usr/bin/python3
"""LMTP delivery speed with readreceipt_hide_forbidden, against no module.

Starts private Dovecots (tests/integration/rrharness.py): without the
readreceipt module, with it and readreceipt_hide_forbidden = no, and with
readreceipt_hide_forbidden = yes and readreceipt_mode = disabled (every
message that asks for a receipt is judged and saved with $MDNSent: the most
work the module does at delivery), the last once with the test harness's
JSON export of every readreceipt_decision event through the stats process
and once without it (the decision's log line stays). Each delivers N
messages over one LMTP
connection to a fresh user, for messages without and with a
Disposition-Notification-To header. The instances take turns every
--chunk messages, so that drift and other load on the machine hit them
alike; the median of the rounds is reported.

Run as root from the build tree after make:
    sudo /usr/bin/python3 bench/delivery_hide_forbidden.py [--messages 2000]
"""

import argparse
import os
import platform
import re
import shutil
import smtplib
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests",
                                "integration"))

import rrharness  # noqa: E402

HIDE = {"readreceipt_mode": "disabled", "readreceipt_hide_forbidden": "yes"}
# (name, load the module, plugin settings, export events as JSON)
CONFIGS = [
    ("no module", False, {}, True),
    ("hide_forbidden=no", True, {"readreceipt_mode": "disabled",
                                 "readreceipt_hide_forbidden": "no"}, True),
    ("hide_forbidden=yes", True, HIDE, True),
    ("hide_forbidden=yes, no export", True, HIDE, False),
]
METRIC_RE = re.compile(r"(?ms)^metric readreceipt_decision \{.*?^\}\n")


class DovecotWithoutExport(rrharness.Dovecot):
    """The test harness's instance without the metric that exports every
    readreceipt_decision event as JSON."""

    def config_text(self):
        text, n = METRIC_RE.subn("", super().config_text())
        assert n == 1
        return text


def deliver_all(lmtp, user, messages):
    """Seconds to deliver messages on an open LMTP connection."""
    start = time.monotonic()
    for raw in messages:
        refused = lmtp.sendmail("boss@example.com", [user], raw)
        if refused:
            raise RuntimeError("LMTP refused %r" % refused)
    return time.monotonic() - start


def last_flags(dovecot, user, count):
    conn = dovecot.imap(user)
    try:
        rrharness.imap_check(conn.select("INBOX", readonly=True))
        return rrharness.fetch_flags(conn, str(count))
    finally:
        conn.logout()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=50)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: the benchmark starts a private Dovecot")

    workdir = tempfile.mkdtemp(prefix="readreceipt-bench-")
    os.chmod(workdir, 0o755)
    instances = []
    # {(config name, with request): [seconds per round]}
    results = {}
    try:
        for i, (name, load_plugin, settings, export) in enumerate(CONFIGS):
            cls = rrharness.Dovecot if export else DovecotWithoutExport
            dovecot = cls(
                workdir=os.path.join(workdir, str(i)),
                load_plugin=load_plugin, plugin_settings=settings,
                sieve=False, valgrind=False)
            instances.append((name, dovecot.start()))
        for n in range(args.rounds):
            for with_request in (False, True):
                messages = [rrharness.make_message(
                    "boss@example.com", "user@example.com",
                    "Message %d" % i, dnt=with_request)
                    for i in range(args.messages)]
                users, conns, spent = [], [], []
                for name, dovecot in instances:
                    user = dovecot.add_user("bench-%d-%d@example.com" % (
                        n, with_request))
                    lmtp = smtplib.LMTP("127.0.0.1", dovecot.lmtp_port,
                                        timeout=60)
                    # the first delivery creates the mailbox and wakes
                    # the lmtp process; it is not counted
                    deliver_all(lmtp, user, messages[:1])
                    users.append(user)
                    conns.append(lmtp)
                    spent.append(0.0)
                for pos in range(1, args.messages, args.chunk):
                    chunk = messages[pos:pos + args.chunk]
                    for i in range(len(instances)):
                        spent[i] += deliver_all(conns[i], users[i], chunk)
                for i, (name, dovecot) in enumerate(instances):
                    conns[i].quit()
                    results.setdefault((name, with_request), []).append(
                        spent[i])
                    flags = last_flags(dovecot, users[i], args.messages)
                    marked = with_request and \
                        name.startswith("hide_forbidden=yes")
                    assert ("$MDNSent" in flags) == marked, (name, flags)
    finally:
        for name, dovecot in instances:
            dovecot.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    delivered = args.messages - 1
    print("LMTP delivery of %d messages over one connection, median of %d "
          "rounds (%s, %d CPUs, %s)" % (
              delivered, args.rounds, platform.node(), os.cpu_count(),
              time.strftime("%Y-%m-%d")))
    print("%-30s %-34s %9s %9s %9s" % ("", "messages", "seconds",
                                      "msg/s", "vs none"))
    for with_request in (False, True):
        base = statistics.median(results[(CONFIGS[0][0], with_request)])
        for name, _, _, _ in CONFIGS:
            secs = statistics.median(results[(name, with_request)])
            print("%-30s %-34s %9.2f %9.0f %+8.1f%%" % (
                name, "with Disposition-Notification-To" if with_request
                else "without a receipt request", secs, delivered / secs,
                (secs / base - 1) * 100))


if __name__ == "__main__":
    main()
