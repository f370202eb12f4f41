#!/usr/bin/python3
"""Hostile input (SPEC §13): what the worst message and the largest
SETMETADATA cost, against an ordinary message and stock Dovecot.

Starts two private Dovecots (tests/integration/rrharness.py) on loopback,
"stock" without the module and "module" with it, both with a per-user
attribute dict file and without the test harness's JSON export of every
decision event (each decision is logged, as in production).

  a. The worst message: 300 Disposition-Notification-To fields of 100
     addresses each (about 680 KB of header), against an ordinary message
     of the same size (the same 300 fields named X-Filler, one real
     Disposition-Notification-To), in readreceipt_mode = disabled so that
     both are judged in full and nothing is sent. Each is delivered --deliveries times
     over LMTP (readreceipt_hide_forbidden = yes: the module judges every
     delivery) and opened (FETCH BODY[], readreceipt_hide_forbidden = no,
     so that the open decides). Reported: server CPU per message (all the
     instance's processes, /proc/PID/schedstat), median over the rounds;
     the module's extra cost of the worst message over the ordinary one.
  b. One SETMETADATA with --entries entries: stock Dovecot setting that
     many ordinary private entries, the module answering that many
     pending prompts ("ignore": the message gets $MDNSent, the entry goes,
     one decision event each). Wall time at the client and server CPU.

The instances take turns round by round (which goes first alternates).
Run as root from the build tree after make:
    sudo /usr/bin/python3 bench/hostile.py [--rounds 5] [--entries 10000]
Prints a Markdown report.
"""

import argparse
import os
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
sys.path.insert(0, HERE)

import rrharness as rr  # noqa: E402
from run import ServerCpu, populate_maildir, select_all, imap_ok  # noqa

DOMAIN = "example.com"
SENDER = "boss@" + DOMAIN
# the message case: every message is judged in full and nothing is sent
# (an ordinary request ends as mode_disabled, the worst as invalid_request)
USER_SETTINGS = dict(readreceipt_mode="disabled")
EXTRA_CONFIG = ("mail_attribute_dict = file:%h/dovecot-attributes\n"
                "protocol imap {\n  imap_metadata = yes\n}\n")
VARIANTS = ("ordinary", "worst")


def big_header_message(to, variant, i):
    addrs = ", ".join("someone%d@example.org" % n for n in range(100))
    name = "Disposition-Notification-To" if variant == "worst" \
        else "X-Filler"
    extra = [(name, addrs)] * 299
    return rr.make_message(SENDER, to, "Big header %d" % i, dnt=True,
                           extra_headers=extra,
                           message_id="<big-%s-%d@%s>" % (variant, i,
                                                           DOMAIN))


class ProductionDovecot(rr.Dovecot):
    """The harness' instance without its JSON export of every decision
    event (a test aid): what an administrator runs, the decision's log
    line only."""

    def config_text(self):
        text = super().config_text()
        return re.sub(r"event_exporter log \{.*?\n\}\nmetric "
                      r"readreceipt_decision \{.*?\n\}\n", "", text,
                      flags=re.S)


class HostileBench:
    def __init__(self, args):
        self.args = args
        self.dovecots = {}
        self.cpu = {}
        self.results = {}

    def start(self):
        for cfg in ("stock", "module"):
            dc = ProductionDovecot(workdir=os.path.join(self.args.workdir, cfg),
                            load_plugin=(cfg == "module"),
                            extra_config=EXTRA_CONFIG, valgrind=False,
                            debug=False, sieve=False)
            dc.start()
            self.dovecots[cfg] = dc
            self.cpu[cfg] = ServerCpu(dc)

    def stop(self):
        for dc in self.dovecots.values():
            try:
                dc.stop()
            except Exception as e:  # keep stopping the others
                print("stopping: %s" % e, file=sys.stderr)

    def order(self, r):
        cfgs = ("stock", "module")
        return cfgs if r % 2 == 0 else cfgs[::-1]

    # ---- a. the worst message

    def bench_message(self):
        args = self.args
        n = args.deliveries
        cpu = {(c, v, what): [] for c in self.dovecots for v in VARIANTS
               for what in ("deliver", "open")}
        for r in range(args.rounds + 1):
            for cfg in self.order(r):
                dc = self.dovecots[cfg]
                for variant in VARIANTS:
                    user = "big-%s-%s-%d@%s" % (variant, cfg, r, DOMAIN)
                    # delivery: judged (hide_forbidden)
                    dc.add_user(user, readreceipt_hide_forbidden="yes",
                                **USER_SETTINGS)
                    raws = [big_header_message(user, variant, i)
                            for i in range(n)]
                    lmtp = smtplib.LMTP("127.0.0.1", dc.lmtp_port,
                                        timeout=120)
                    lmtp.ehlo("bench.test")
                    self.cpu[cfg].start()
                    for raw in raws:
                        if lmtp.sendmail(SENDER, [user], raw):
                            raise RuntimeError("LMTP refused")
                    used = self.cpu[cfg].stop()
                    lmtp.quit()
                    if r > 0:
                        cpu[(cfg, variant, "deliver")].append(used / n)
                    # open: the same messages, decided at the open
                    user2 = "open-%s-%s-%d@%s" % (variant, cfg, r, DOMAIN)
                    dc.add_user(user2, readreceipt_hide_forbidden="no",
                                **USER_SETTINGS)
                    populate_maildir(dc, user2, [
                        big_header_message(user2, variant, i)
                        for i in range(n)])
                    conn = dc.imap(user2, timeout=120)
                    select_all(conn, n)
                    self.cpu[cfg].start()
                    for seq in range(1, n + 1):
                        imap_ok(conn.fetch(str(seq), "(BODY[])"), "FETCH")
                    used = self.cpu[cfg].stop()
                    conn.logout()
                    if r > 0:
                        cpu[(cfg, variant, "open")].append(used / n)
            if r > 0:
                print("message round %d/%d done" % (r, args.rounds),
                      file=sys.stderr)
        self.results["message"] = cpu

    # ---- b. SETMETADATA

    def bench_setmetadata(self):
        args = self.args
        n = args.entries
        wall = {c: [] for c in self.dovecots}
        cpu = {c: [] for c in self.dovecots}
        for r in range(args.metadata_rounds + 1):
            for cfg in self.order(r):
                dc = self.dovecots[cfg]
                user = "meta-%s-%d@%s" % (cfg, r, DOMAIN)
                # every open queues a prompt (a client that can prompt is
                # not needed: unprompted=defer)
                dc.add_user(user, readreceipt_mode="internal",
                            readreceipt_prompt="yes",
                            readreceipt_unprompted="defer",
                            readreceipt_bulk_limit=str(n + 1))
                populate_maildir(dc, user, [rr.make_message(
                    SENDER, user, "Prompt %d" % i, dnt=True,
                    return_path=SENDER) for i in range(n)])
                conn = dc.imap(user, timeout=600)
                select_all(conn, n)
                if cfg == "module":
                    imap_ok(conn.store("1:*", "+FLAGS.SILENT", r"(\Seen)"),
                            "STORE")
                    imap_ok(conn.noop(), "NOOP")
                    entries = " ".join(
                        '%s%d "ignore"' % (rr.PENDING_PREFIX, uid)
                        for uid in range(1, n + 1))
                else:
                    entries = " ".join(
                        '/private/vendor/bench/entry%d "ignore"' % i
                        for i in range(1, n + 1))
                self.cpu[cfg].start()
                t0 = time.perf_counter()
                typ, data = conn._simple_command(
                    "SETMETADATA", '"INBOX"', "(%s)" % entries)
                t1 = time.perf_counter()
                used = self.cpu[cfg].stop()
                if typ != "OK":
                    raise RuntimeError("SETMETADATA: %s %r" % (typ, data))
                conn.logout()
                if r > 0:
                    wall[cfg].append(t1 - t0)
                    cpu[cfg].append(used)
            if r > 0:
                print("SETMETADATA round %d/%d: %s" % (
                    r, args.metadata_rounds, ", ".join(
                        "%s %.3fs" % (c, wall[c][-1]) for c in wall)),
                    file=sys.stderr)
        self.results["setmetadata"] = (wall, cpu)

    def report(self):
        out = ["## Hostile input (bench/hostile.py)", ""]
        args = self.args
        if "message" in self.results:
            cpu = self.results["message"]
            out.append("Server CPU per message, median of %d rounds of %d "
                       "messages (ms):" % (args.rounds, args.deliveries))
            out.append("")
            out.append("| | stock, ordinary | stock, worst | module, "
                       "ordinary | module, worst | module: worst − "
                       "ordinary |")
            out.append("|---|---|---|---|---|---|")
            for what in ("deliver", "open"):
                med = {(c, v): statistics.median(cpu[(c, v, what)]) * 1000
                       for c in self.dovecots for v in VARIANTS}
                out.append("| %s | %.2f | %.2f | %.2f | %.2f | %+.2f |" % (
                    "LMTP delivery" if what == "deliver" else
                    "open (FETCH BODY[])",
                    med[("stock", "ordinary")], med[("stock", "worst")],
                    med[("module", "ordinary")], med[("module", "worst")],
                    med[("module", "worst")] -
                    med[("module", "ordinary")]))
            out.append("")
        if "setmetadata" in self.results:
            wall, cpu = self.results["setmetadata"]
            ws = {c: statistics.median(wall[c]) for c in wall}
            cs = {c: statistics.median(cpu[c]) for c in cpu}
            out.append("One SETMETADATA of %d entries, median of %d rounds:"
                       % (args.entries, args.metadata_rounds))
            out.append("")
            out.append("| | wall (s) | server CPU (s) |")
            out.append("|---|---|---|")
            out.append("| stock, ordinary entries | %.3f | %.3f |" % (
                ws["stock"], cs["stock"]))
            out.append("| module, answers to prompts | %.3f | %.3f |" % (
                ws["module"], cs["module"]))
            out.append("| ratio | %.1f × | %.1f × |" % (
                ws["module"] / ws["stock"], cs["module"] / cs["stock"]))
            out.append("")
        return "\n".join(out)


def main():
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--deliveries", type=int, default=20,
                   help="big-header messages per round and variant "
                   "(default 20)")
    p.add_argument("--rounds", type=int, default=5,
                   help="timed rounds of the message case (default 5)")
    p.add_argument("--entries", type=int, default=10000,
                   help="entries in the SETMETADATA (default 10000)")
    p.add_argument("--metadata-rounds", type=int, default=3,
                   help="timed rounds of the SETMETADATA case (default 3)")
    p.add_argument("--only", choices=("message", "setmetadata"),
                   action="append")
    p.add_argument("--workdir")
    args = p.parse_args()
    own_workdir = args.workdir is None
    if own_workdir:
        args.workdir = tempfile.mkdtemp(prefix="readreceipt-hostile-",
                                        dir="/var/tmp")
        os.chmod(args.workdir, 0o755)
    bench = HostileBench(args)
    try:
        bench.start()
        if not args.only or "message" in args.only:
            bench.bench_message()
        if not args.only or "setmetadata" in args.only:
            bench.bench_setmetadata()
    finally:
        bench.stop()
        if own_workdir:
            shutil.rmtree(args.workdir, ignore_errors=True)
    print(bench.report())


if __name__ == "__main__":
    main()
