#!/usr/bin/python3
"""What the readreceipt modules cost, counted in CPU instructions.

Wall and CPU times on a shared 2-CPU machine move by several per cent
from one run to the next; instruction counts do not. This runs the LMTP
and the load case of bench/run.py with the measured Dovecot process
under valgrind's callgrind, on two private instances, "stock" (no
module) and "module" (the storage module, and the imap module for the
load case), and prints the instructions each instance's processes
executed for the same work:

  lmtp  --deliveries messages that ask for a receipt (which the policy
        forbids: each is saved with $MDNSent, readreceipt_hide_forbidden
        at its default), one LMTP session, to a fresh user; the lmtp
        process from its start to its exit.
  load  --load-users IMAP sessions of bench/imap_load.py (SELECT, three
        FETCH BODY[], STORE, NOOP), --load-commands commands each, on
        --load-messages messages of which every other asks for a
        receipt; the imap processes of those sessions (logging in and
        indexing the mailboxes happen in earlier, uncounted sessions).

Callgrind slows a process down about fifty times, so the order of events
that depends on time (how many receipts leave in a row, for example) can
differ from a normal run; the work counted is the same on both
instances. With --annotate, callgrind_annotate's inclusive costs of the
module instance are written next to the counts (where the difference is).

Needs root (it starts Dovecot and writes mail as the mail user) and
valgrind. Only 127.0.0.1; ports are picked free.
"""

import argparse
import asyncio
import glob
import os
import re
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests",
                                "integration"))

import rrharness as rr  # noqa: E402
import imap_load  # noqa: E402
import count_sink  # noqa: E402
import run as bench  # noqa: E402

VALGRIND = "/usr/bin/valgrind"
CALLGRIND_ANNOTATE = "/usr/bin/callgrind_annotate"
# the stock instances of --keyword-baseline
KEYWORD_KEEP = "sieve-keep"
KEYWORD_MARK = "sieve-mark"
SUMMARY_RE = re.compile(r"^(?:summary|totals):\s*(\d+)", re.M)


def log(fmt, *args):
    print("# " + (fmt % args if args else fmt), file=sys.stderr, flush=True)


class CallgrindDovecot(bench.SharedMailDovecot):
    """An instance whose one service (lmtp or imap) runs under callgrind.
    Its output files are named <dir>/<service>.<config>.<pid>."""

    def __init__(self, mail_root, measured, cfg, out_dir, **kwargs):
        self.measured = measured
        self.cfg = cfg
        self.out_dir = out_dir
        kwargs.setdefault("sieve", False)
        super().__init__(mail_root, export_events=False, valgrind=True,
                         debug=False, **kwargs)

    def _service_executable(self, service):
        path = os.path.join(rr.DOVECOT_LIBEXEC, service)
        if service != self.measured:
            return path
        return " ".join([
            VALGRIND, "--tool=callgrind", "--dump-instr=no", "--vgdb=no",
            "--callgrind-out-file=%s/%s.%s.%%p" % (self.out_dir, service,
                                                    self.cfg),
            path])


class OutputOwner:
    """imap drops its privileges for good, after callgrind created its
    output file as root: hand every new output file to the mail user, so
    that the process can write it when it exits."""

    def __init__(self, out_dir, pw):
        self.out_dir = out_dir
        self.pw = pw
        self.stopping = False
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        while not self.stopping:
            for path in glob.glob(os.path.join(self.out_dir, "*.*.*")):
                try:
                    if os.stat(path).st_uid != self.pw.pw_uid:
                        os.chown(path, self.pw.pw_uid, self.pw.pw_gid)
                except OSError:
                    pass
            time.sleep(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping = True
        self.thread.join()


def instructions(path):
    with open(path) as f:
        m = SUMMARY_RE.search(f.read())
    if m is None:
        raise RuntimeError("%s has no instruction count (the process did "
                           "not exit normally?)" % path)
    return int(m.group(1))


def outputs(out_dir, service, cfg):
    return set(glob.glob(os.path.join(out_dir, "%s.%s.*" % (service, cfg))))


class Run:
    def __init__(self, args):
        self.args = args
        self.results = {}
        self.pw = rr.ensure_mail_user()
        self.out_dir = os.path.join(args.workdir, "callgrind")
        os.makedirs(self.out_dir, exist_ok=True)
        os.chmod(self.out_dir, 0o1777)

    def instance(self, case, cfg, sink, measured, sieve=False):
        mail_root = os.path.join(self.args.workdir, case, "mail")
        os.makedirs(mail_root, exist_ok=True)
        os.chown(mail_root, self.pw.pw_uid, self.pw.pw_gid)
        os.chmod(mail_root, 0o750)
        return CallgrindDovecot(
            mail_root, measured, cfg, self.out_dir,
            workdir=os.path.join(self.args.workdir, case, cfg),
            submission_host=sink.address,
            plugin_settings=bench.PLUGIN_SETTINGS,
            load_plugin=(cfg == "module"), imap_module=True, sieve=sieve)

    @staticmethod
    def add_user(dc, user, sieve_before=None):
        """A user as bench/run.py has them: the module active, attributes
        (the pending queue) in a file in the home, in the syntax of the
        Dovecot that runs; sieve_before: a script run before each
        delivery."""
        settings = dict(bench.USER_SETTINGS)
        settings.update(rr.attribute_dict_settings(
            os.path.join(dc.home(user), "dovecot-attributes")))
        if sieve_before is not None:
            settings.update(rr.sieve_before_settings(sieve_before))
        dc.add_user(user, **settings)

    def keyword_scripts(self):
        """--keyword-baseline: two stock instances with a Sieve script
        before each delivery, one that keeps the message and one that
        saves it with $MDNSent, as the module does with every message of
        the LMTP case. Both pay for Sieve alike; the difference is what
        saving with the keyword costs Dovecot itself."""
        return bench.write_sieve_scripts(
            os.path.join(self.args.workdir, "sieve"), self.pw,
            {KEYWORD_KEEP: bench.SIEVE_KEEP, KEYWORD_MARK: bench.SIEVE_MARK})

    def lmtp(self):
        n = self.args.deliveries
        body = bench.body_text(20)
        messages = [rr.make_message(
            bench.SENDER, "team@" + bench.DOMAIN, "Delivery %d" % i,
            dnt=True, body=body,
            message_id="<lmtp-%d@%s>" % (i, bench.DOMAIN)) for i in range(n)]
        scripts = self.keyword_scripts() if self.args.keyword_baseline \
            else {}
        sink = rr.SmtpSink(os.path.join(self.args.workdir, "lmtp-sink"))
        sink.start()
        try:
            for cfg in list(bench.CONFIGS) + list(scripts):
                dc = self.instance("lmtp", cfg, sink, "lmtp",
                                   sieve=cfg in scripts)
                dc.start()
                try:
                    user = "lmtp-%s@%s" % (cfg, bench.DOMAIN)
                    self.add_user(dc, user, scripts.get(cfg))
                    conn = smtplib.LMTP("127.0.0.1", dc.lmtp_port,
                                        timeout=3600)
                    conn.ehlo("bench.test")
                    for raw in messages:
                        refused = conn.sendmail(bench.SENDER, [user], raw)
                        if refused:
                            raise RuntimeError("LMTP refused %r" % refused)
                    conn.quit()
                finally:
                    dc.stop()
                files = outputs(self.out_dir, "lmtp", cfg)
                self.results[("lmtp", cfg)] = (
                    sum(instructions(p) for p in files), n, sorted(files))
                log("lmtp, %s: %d processes", cfg, len(files))
        finally:
            sink.stop()

    def load(self):
        a = self.args
        body = bench.body_text(40)
        sink = count_sink.CountingSink(
            os.path.join(a.workdir, "load-sink")).start()
        try:
            for cfg in bench.CONFIGS:
                dc = self.instance("load", cfg, sink, "imap")
                with OutputOwner(self.out_dir, self.pw):
                    dc.start()
                    try:
                        self.load_instance(dc, cfg, body)
                    finally:
                        dc.stop()
        finally:
            sink.stop()

    def load_instance(self, dc, cfg, body):
        a = self.args
        users = ["load-%s-%d@%s" % (cfg, i, bench.DOMAIN)
                 for i in range(a.load_users)]
        seqs = None
        for user in users:
            self.add_user(dc, user)
            bench.populate_maildir(dc, user, [rr.make_message(
                bench.SENDER, user, "Load %d" % i,
                dnt=True if i % 2 == 0 else None,
                return_path=bench.SENDER, body=body,
                message_id="<load-%d-%s>" % (i, user))
                for i in range(a.load_messages)])
            conn = dc.imap(user, timeout=3600)
            bench.select_all(conn, a.load_messages)
            typ, data = conn.search(None, "HEADER",
                                    "Disposition-Notification-To", '""')
            seqs = frozenset(int(x) for x in data[0].split())
            conn.logout()
        # the indexing sessions' processes exit and write theirs
        rr.wait_until(lambda: len(outputs(self.out_dir, "imap", cfg)) ==
                      len(users) and all(
                          os.path.getsize(p) > 0
                          for p in outputs(self.out_dir, "imap", cfg)),
                      600, what="the indexing sessions' imap processes")
        before = outputs(self.out_dir, "imap", cfg)
        res = asyncio.run(imap_load.run_load(
            dc.imap_port, users, "secret", a.load_messages, 24 * 3600,
            fetches=3, receipt_seqs=seqs, seed=1,
            max_commands=a.load_commands))
        rr.wait_until(lambda: len(outputs(self.out_dir, "imap", cfg)) ==
                      2 * len(users) and all(
                          os.path.getsize(p) > 0
                          for p in outputs(self.out_dir, "imap", cfg)),
                      600, what="the load sessions' imap processes")
        files = outputs(self.out_dir, "imap", cfg) - before
        self.results[("load", cfg)] = (
            sum(instructions(p) for p in files), res["commands"],
            sorted(files))
        log("load, %s: %d commands, %d first opens of a requesting "
            "message", cfg, res["commands"], res["receipt_opens"])

    def annotate(self, case):
        _, _, files = self.results[(case, "module")]
        path = os.path.join(self.args.workdir, "%s-module.annotate" % case)
        with open(path, "w") as f:
            subprocess.run([CALLGRIND_ANNOTATE, "--inclusive=yes",
                            "--threshold=100", "--auto=no"] + files,
                           stdout=f, stderr=subprocess.DEVNULL, check=False)
        return path

    def report(self):
        print("| case | work | stock instructions | module instructions "
              "| module / stock | added per delivery or command |")
        print("|---|---|---|---|---|---|")
        for case, units in (("lmtp", "deliveries"), ("load", "commands")):
            if (case, "stock") not in self.results:
                continue
            stock, n, _ = self.results[(case, "stock")]
            module, m, _ = self.results[(case, "module")]
            if n != m:
                raise RuntimeError("%s: the instances did different work "
                                   "(%d and %d)" % (case, n, m))
            print("| %s | %d %s | %s | %s | %.3f | %s |" % (
                case, n, units, format(stock, ","), format(module, ","),
                module / stock, format((module - stock) // n, ",")))
            if self.args.annotate:
                log("%s: %s", case, self.annotate(case))
        if ("lmtp", KEYWORD_MARK) in self.results:
            keep, n, _ = self.results[("lmtp", KEYWORD_KEEP)]
            mark, _, _ = self.results[("lmtp", KEYWORD_MARK)]
            print("| lmtp, stock with Sieve: keep / addflag $MDNSent | "
                  "%d deliveries | %s | %s | %.3f | %s |" % (
                      n, format(keep, ","), format(mark, ","), mark / keep,
                      format((mark - keep) // n, ",")))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", action="append", choices=("lmtp", "load"),
                   help="the cases to run (repeatable; default both)")
    p.add_argument("--deliveries", type=int, default=300)
    p.add_argument("--load-users", type=int, default=2)
    p.add_argument("--load-messages", type=int, default=200)
    p.add_argument("--load-commands", type=int, default=400,
                   help="commands per session")
    p.add_argument("--keyword-baseline", action="store_true",
                   help="LMTP case: also two stock instances with a Sieve "
                   "script before each delivery, keep and addflag "
                   "\"$MDNSent\": what the keyword alone costs Dovecot")
    p.add_argument("--annotate", action="store_true",
                   help="also write callgrind_annotate's inclusive costs "
                   "of the module instance (with --workdir)")
    p.add_argument("--workdir",
                   help="an empty directory to keep (default: a new one "
                   "in /dev/shm, removed at the end)")
    args = p.parse_args()
    if os.geteuid() != 0:
        p.error("needs root")
    keep = args.workdir is not None
    if args.annotate and not keep:
        p.error("--annotate needs --workdir (where it writes)")
    if keep and os.listdir(args.workdir):
        p.error("%s is not empty" % args.workdir)
    if not keep:
        args.workdir = tempfile.mkdtemp(prefix="rr-instructions-",
                                        dir="/dev/shm")
        os.chmod(args.workdir, 0o755)
    try:
        run = Run(args)
        cases = args.only or ["lmtp", "load"]
        if "lmtp" in cases:
            run.lmtp()
        if "load" in cases:
            run.load()
        run.report()
    finally:
        if not keep:
            shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
