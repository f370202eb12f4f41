#!/usr/bin/python3
"""What the readreceipt storage module costs, measured on this machine.

Two private Dovecot instances run side by side on 127.0.0.1, identical
except that one loads lib20_readreceipt_plugin.so ("module") and the other
does not ("stock"). Every user of the module instance is in
readreceipt_mode=internal with readreceipt_prompt=no, so the module is
active for them. Both instances serve the same mail directories (one
shared mail root), so that the mailboxes they measure are the same files.
Measured, in one run, interleaving the two instances round by round (which
goes first alternates) so that drift of the machine hits both alike:

  a. STORE 1:* +FLAGS.SILENT (\\Seen) over --messages messages in one
     mailbox (goal: at most 5 % slower with the module), once with
     messages that ask for no receipt and once with messages that all ask
     for one. Before each timed STORE, STORE 1:* -FLAGS.SILENT (\\Seen) and
     NOOP (not timed).
  b. LMTP delivery of --deliveries messages in one LMTP session, to a
     fresh user per round.
  c. FETCH n (BODY[]) latency, one message at a time, over --fetches
     messages: with the module a receipt is sent to a loopback SMTP sink
     for every one; a second set of messages that ask for no receipt shows
     what the module costs when there is nothing to send. Then the same
     with --big-fetches messages spread over the big mailbox of (a), since
     what a receipt costs may grow with the mailbox, and, for scale, the
     bare SMTP transaction to the sink sent by this client itself.

Wall time is measured at the client (from sending the command to its
tagged answer). "Server CPU" is the on-CPU time of all the instance's
processes over the same span (/proc/PID/schedstat), which is less noisy
than wall time and does not include the client.

Needs root (it starts Dovecot and writes mail as the mail user). Prints a
Markdown report; --json also writes every sample.
"""

import argparse
import datetime
import hashlib
import inspect
import json
import os
import platform
import shutil
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

import rrharness as rr  # noqa: E402

DOMAIN = "example.com"
SENDER = "alice@" + DOMAIN
CONFIGS = ("stock", "module")
# every user of the module instance has the module active
USER_SETTINGS = dict(readreceipt_mode="internal", readreceipt_prompt="no")
# the hourly limit stays enabled (its counter file is part of the cost of
# a send) but high enough for every receipt of the run
PLUGIN_SETTINGS = {"readreceipt_max_per_hour": "1000000"}
# as in a production setup: attributes (where the module keeps its pending
# queue) in a per-user file; the same in both instances
EXTRA_CONFIG = "mail_attribute_dict = file:%h/dovecot-attributes\n"
BODY_LINE = ("The quarterly figures are attached below; please have a look "
             "before Thursday.\n")
GOAL_PERCENT = 5.0


class Interrupted(Exception):
    pass


def on_signal(signum, frame):
    raise Interrupted("signal %d" % signum)


def log(fmt, *args):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"),
                                     fmt % args if args else fmt))
    sys.stderr.flush()


# ---------------------------------------------------------------- facts

def read_file(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def command_output(argv):
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def machine_facts(workdir):
    cpu = "?"
    for line in read_file("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = "?"
    for line in read_file("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            mem = "%.1f GiB" % (int(line.split()[1]) / 1024 / 1024)
    modules = []
    for name in (rr.MODULE_FILE, getattr(rr, "IMAP_MODULE_FILE", None)):
        if name is None:
            continue
        path = os.path.join(rr.Dovecot.modules_under_test_dir(), name)
        try:
            with open(path, "rb") as f:
                modules.append("%s (sha256 %s)" % (
                    path, hashlib.sha256(f.read()).hexdigest()[:16]))
        except OSError:
            pass
    fs = command_output(["df", "--output=fstype", workdir]).splitlines()
    return [
        ("date", datetime.datetime.now(datetime.timezone.utc)
         .strftime("%Y-%m-%d %H:%M UTC")),
        ("CPUs (nproc)", command_output(["nproc"])),
        ("CPU model", cpu),
        ("memory", mem),
        ("kernel", platform.release()),
        ("OS", platform.freedesktop_os_release().get("PRETTY_NAME", "?")
         if hasattr(platform, "freedesktop_os_release") else "?"),
        ("Dovecot", command_output([rr.DOVECOT_BIN, "--version"])),
        ("Python (client)", platform.python_version()),
        ("mail storage", "maildir on %s (%s)"
         % (fs[-1] if fs else "?", workdir)),
        ("modules under test", ", ".join(modules) or "?"),
        ("load average at start",
         " ".join(read_file("/proc/loadavg").split(" ")[:3])),
    ]


# ---------------------------------------------------------------- helpers

CLK_TCK = os.sysconf("SC_CLK_TCK")


def machine_ticks():
    """(busy, all) clock ticks of all CPUs since boot; busy = user, nice,
    system, irq, softirq (not idle, iowait or steal)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    return user + nice + system + irq + softirq, sum(fields)


def cpu_busy_by_others(seconds=2.0):
    """Share of all CPUs busy over a short sample taken before anything of
    ours runs: other work on the machine."""
    busy0, all0 = machine_ticks()
    time.sleep(seconds)
    busy1, all1 = machine_ticks()
    return (busy1 - busy0) / (all1 - all0) if all1 > all0 else 0.0


def process_ticks(pid, reaped_children=False):
    """utime + stime of pid (plus those of its reaped children)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks


class OutsideCpu:
    """CPU time the machine spent outside the benchmark's own processes
    while it ran: other work that competed with it (plus kernel threads,
    such as the ext4 journal, partly working for it)."""

    @staticmethod
    def all_processes():
        """{pid: (name, utime + stime)} of every process. (Not the times
        of reaped children: init's would count every orphan's lifetime.)"""
        procs = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    stat = f.read()
            except OSError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            procs[int(entry)] = (name, int(fields[11]) + int(fields[12]))
        return procs

    def start(self):
        self.busy0, self.all0 = machine_ticks()
        self.own0 = sum(os.times()[:4])
        self.procs0 = self.all_processes()

    def top_others(self, bench, n=3):
        """The processes outside the benchmark that used the most CPU."""
        ours = {os.getpid()}
        if bench.sink is not None and bench.sink.pid is not None:
            ours.add(bench.sink.pid)
        for dc in bench.dovecots.values():
            ours.update(dc.processes())
        used = {}
        for pid, (name, ticks) in self.all_processes().items():
            if pid in ours:
                continue
            before = self.procs0.get(pid)
            delta = ticks - (before[1] if before and before[0] == name
                             else 0)
            if delta > 0:
                used[name] = used.get(name, 0) + delta
        top = sorted(used.items(), key=lambda kv: -kv[1])[:n]
        return [(name, ticks / CLK_TCK) for name, ticks in top]

    def stop(self, bench):
        self.top = self.top_others(bench)
        busy1, all1 = machine_ticks()
        ours = (sum(os.times()[:4]) - self.own0) * CLK_TCK
        if bench.sink is not None and bench.sink.pid is not None:
            ours += process_ticks(bench.sink.pid)
        for dc in bench.dovecots.values():
            for pid in dc.processes():
                ours += process_ticks(pid, pid == dc.master_pid)
        outside = max(0.0, (busy1 - self.busy0 - ours) / CLK_TCK)
        capacity = (all1 - self.all0) / CLK_TCK
        return outside, capacity


def schedstat_ns(pid):
    """Nanoseconds pid has run on a CPU, or None if it is gone."""
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class ServerCpu:
    """On-CPU time of every process of one Dovecot instance between start()
    and stop(). Processes that exit in between are not counted (none do in
    these measurements: imap and lmtp processes stay)."""

    def __init__(self, dovecot):
        self.dovecot = dovecot
        self.before = {}

    def snapshot(self):
        snap = {}
        for pid in self.dovecot.processes():
            ns = schedstat_ns(pid)
            if ns is not None:
                snap[pid] = ns
        return snap

    def start(self):
        self.before = self.snapshot()

    def stop(self):
        after = self.snapshot()
        return sum(ns - self.before.get(pid, 0)
                   for pid, ns in after.items()) / 1e9


def percentile(values, p):
    """p-th percentile (0..100), linear between closest ranks."""
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    k = (len(values) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def body_text(lines):
    return BODY_LINE * lines


def to_maildir_bytes(raw):
    """What Dovecot would store: LF line endings."""
    return raw.replace(b"\r\n", b"\n")


def populate_maildir(dovecot, user, messages):
    """Write messages straight into user's ~/Maildir/cur as the mail user,
    the way Dovecot would have stored them (LF, S= and W= sizes in the
    name, no flags). Dovecot indexes them on the first SELECT."""
    pw = dovecot.mail_pw
    home = dovecot.home(user)
    maildir = os.path.join(home, "Maildir")
    for d in (maildir, os.path.join(maildir, "cur"),
              os.path.join(maildir, "new"), os.path.join(maildir, "tmp")):
        os.makedirs(d, exist_ok=True)
        os.chown(d, pw.pw_uid, pw.pw_gid)
        os.chmod(d, 0o700)
    cur = os.path.join(maildir, "cur")
    base = int(time.time()) - len(messages)
    for i, raw in enumerate(messages):
        data = to_maildir_bytes(raw)
        name = "%d.M%dP%d.bench,S=%d,W=%d:2," % (
            base + i, i, os.getpid(), len(data), len(raw))
        fd = os.open(os.path.join(cur, name),
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            os.fchown(fd, pw.pw_uid, pw.pw_gid)
        finally:
            os.close(fd)


def select_all(conn, expected):
    typ, data = conn.select("INBOX")
    if typ != "OK" or int(data[0]) != expected:
        raise RuntimeError("SELECT INBOX: %s %r (expected %d messages)"
                           % (typ, data, expected))


def imap_ok(result, what):
    typ, data = result
    if typ != "OK":
        raise RuntimeError("%s: %s %r" % (what, typ, data))
    return data


def unseen_count(conn):
    data = imap_ok(conn.search(None, "UNSEEN"), "SEARCH UNSEEN")
    return len(data[0].split()) if data and data[0] else 0


def store_reset(conn, flags=r"(\Seen)"):
    imap_ok(conn.store("1:*", "-FLAGS.SILENT", flags), "STORE -FLAGS")
    imap_ok(conn.noop(), "NOOP")


# ---------------------------------------------------------------- runs

class SharedMailDovecot(rr.Dovecot):
    """An instance whose users live under a mail root shared with the other
    instance, so that both work on the very same Maildir directories, files
    and index and nothing but the module differs. The benchmark never drives
    both instances at the same moment; each session catches up with the
    other's changes in the untimed reset before its timed command."""

    def __init__(self, shared_mail_root, **kwargs):
        super().__init__(**kwargs)
        self.shared_mail_root = shared_mail_root

    def home(self, name):
        return os.path.join(self.shared_mail_root, name)


def lmtp_user(cfg, round_no):
    return "lmtp-%s-%d@%s" % (cfg, round_no, DOMAIN)


class Bench:
    def __init__(self, args):
        self.args = args
        self.sink = None
        self.dovecots = {}
        self.cpu = {}
        self.samples = {}

    # ---- setup

    def start(self):
        args = self.args
        self.sink = rr.SmtpSink(os.path.join(args.workdir, "sink")).start()
        pw = rr.ensure_mail_user()
        mail_root = os.path.join(args.workdir, "mail")
        os.makedirs(mail_root, exist_ok=True)
        os.chown(mail_root, pw.pw_uid, pw.pw_gid)
        os.chmod(mail_root, 0o750)
        for cfg in CONFIGS:
            options = {}
            if "imap_module" in inspect.signature(
                    rr.Dovecot.__init__).parameters:
                # as conf.d/90-readreceipt.conf has it: the imap module too
                options["imap_module"] = True
            dc = SharedMailDovecot(
                mail_root, workdir=os.path.join(args.workdir, cfg),
                submission_host=self.sink.address,
                plugin_settings=PLUGIN_SETTINGS,
                load_plugin=(cfg == "module"), extra_config=EXTRA_CONFIG,
                valgrind=False, debug=False, sieve=False, **options)
            self.dovecots[cfg] = dc
            dc.start()
            self.cpu[cfg] = ServerCpu(dc)
            log("%s instance started (imap %d, lmtp %d)", cfg,
                dc.imap_port, dc.lmtp_port)
        with open(self.dovecots["module"].config_path) as f:
            self.mail_plugins = [line.strip() for line in f
                                 if line.strip().startswith("mail_plugins")]
        for dc in self.dovecots.values():
            for user in self.users():
                dc.add_user(user, **USER_SETTINGS)

    def users(self):
        users = ["store-plain@" + DOMAIN, "store-dnt@" + DOMAIN,
                 "fetch-dnt@" + DOMAIN, "fetch-plain@" + DOMAIN]
        # deliveries go to a fresh mailbox per round and instance
        users += [lmtp_user(cfg, r) for cfg in CONFIGS
                  for r in range(self.args.rounds + 1)]
        return users

    def stop(self):
        for cfg, dc in self.dovecots.items():
            try:
                dc.stop()
            except Exception as e:  # keep stopping the others
                log("stopping %s instance: %s", cfg, e)
        if self.sink is not None:
            self.sink.stop()

    def order(self, round_no):
        """Alternate which instance goes first, to cancel drift."""
        return CONFIGS if round_no % 2 == 0 else CONFIGS[::-1]

    def check_problems(self):
        for cfg, dc in self.dovecots.items():
            problems = dc.problems(levels=("Panic", "Fatal", "Error"))
            if problems:
                raise RuntimeError("%s instance logged problems:\n%s"
                                   % (cfg, "\n".join(map(str, problems))))

    # ---- a. STORE

    def bench_store(self):
        args = self.args
        n = args.messages
        body = body_text(20)
        variants = {
            "plain": ("store-plain@" + DOMAIN, None),
            "dnt": ("store-dnt@" + DOMAIN, True),
        }
        conns = {}
        for variant, (user, dnt) in variants.items():
            log("STORE: writing %d messages for %s", n, user)
            messages = [rr.make_message(
                SENDER, user, "Figures %d" % i, dnt=dnt,
                return_path=SENDER, body=body,
                message_id="<store-%s-%d@%s>" % (variant, i, DOMAIN))
                for i in range(n)]
            populate_maildir(self.dovecots["module"], user, messages)
            for cfg in CONFIGS:
                dc = self.dovecots[cfg]
                conn = dc.imap(user, timeout=600)
                t0 = time.perf_counter()
                select_all(conn, n)
                log("STORE: %s/%s indexed in %.2fs", cfg, variant,
                    time.perf_counter() - t0)
                # untimed warm-up: the first flag change of every file
                imap_ok(conn.store("1:*", "+FLAGS.SILENT", r"(\Seen)"),
                        "warm-up STORE")
                store_reset(conn)
                conns[(cfg, variant)] = conn

        wall = {k: [] for k in conns}
        cpu = {k: [] for k in conns}
        for r in range(args.store_rounds):
            for variant in variants:
                for cfg in self.order(r):
                    conn = conns[(cfg, variant)]
                    store_reset(conn)
                    self.cpu[cfg].start()
                    t0 = time.perf_counter()
                    imap_ok(conn.store("1:*", "+FLAGS.SILENT", r"(\Seen)"),
                            "STORE +FLAGS")
                    t1 = time.perf_counter()
                    cpu[(cfg, variant)].append(self.cpu[cfg].stop())
                    wall[(cfg, variant)].append(t1 - t0)
                    left = unseen_count(conn)
                    if left != 0:
                        raise RuntimeError("%d messages still unseen after "
                                           "STORE (%s/%s)"
                                           % (left, cfg, variant))
            log("STORE round %d/%d: %s", r + 1, args.store_rounds, ", ".join(
                "%s/%s %.3fs" % (c, v, wall[(c, v)][-1])
                for v in variants for c in CONFIGS))
        if args.big_fetches > 0:
            self.bench_big_fetch({cfg: conns[(cfg, "dnt")] for cfg in CONFIGS})
        for conn in conns.values():
            conn.logout()

        # the module really was active: one bulk decision per STORE
        for variant, (user, _) in variants.items():
            bulk = [d for d in self.dovecots["module"].decision_lines(user)
                    if d.get("reason") == "bulk"
                    and d.get("mode") == "internal"]
            expected = args.store_rounds + 1
            if len(bulk) != expected:
                raise RuntimeError("module instance: %d bulk decisions for "
                                   "%s, expected %d" % (len(bulk), user,
                                                        expected))
        for variant in variants:
            self.samples["store_" + variant] = {
                cfg: {"wall": wall[(cfg, variant)],
                      "cpu": cpu[(cfg, variant)]} for cfg in CONFIGS}

    def fetch_series(self, conn, seqs):
        """Latency of FETCH seq (BODY[]) for each seq, one at a time."""
        samples = []
        for seq in seqs:
            t0 = time.perf_counter()
            data = imap_ok(conn.fetch(str(seq), "(BODY[])"), "FETCH")
            samples.append(time.perf_counter() - t0)
            if not any(isinstance(d, tuple) and len(d[1]) > 1000
                       for d in data):
                raise RuntimeError("FETCH %d (BODY[]) returned no body: %r"
                                   % (seq, data[:2]))
        return samples

    def check_sink(self, cfg, what, want):
        sent = len(self.sink.messages())
        if sent != want:
            raise RuntimeError("%s %s: %d receipts arrived at the sink, "
                               "expected %d\n%s" % (
                                   cfg, what, sent, want,
                                   self.dovecots[cfg].log_tail()))

    def bench_big_fetch(self, conns):
        """FETCH BODY[] of single messages that get a receipt, in the big
        STORE mailbox: what one receipt costs where the mailbox is large."""
        args = self.args
        n, k = args.messages, min(args.big_fetches, args.messages)
        seqs = [1 + i * (n // k) for i in range(k)]
        lat = {cfg: [] for cfg in CONFIGS}
        for r in range(args.rounds):
            for cfg in self.order(r):
                conn = conns[cfg]
                store_reset(conn, r"(\Seen $MDNSent)")
                self.sink.clear()
                lat[cfg].extend(self.fetch_series(conn, seqs))
                self.check_sink(cfg, "big mailbox",
                                k if cfg == "module" else 0)
            log("FETCH in the %d-message mailbox, round %d/%d: %s", n,
                r + 1, args.rounds, ", ".join(
                    "%s %.2fms" % (c, 1000 * statistics.median(lat[c][-k:]))
                    for c in CONFIGS))
        self.samples["fetch_big"] = {cfg: {"latency": lat[cfg]}
                                     for cfg in CONFIGS}

    # ---- b. LMTP

    def bench_lmtp(self):
        args = self.args
        n = args.deliveries
        body = body_text(20)
        to = "team@" + DOMAIN
        messages = [rr.make_message(
            SENDER, to, "Delivery %d" % i, dnt=True, body=body,
            message_id="<lmtp-%d@%s>" % (i, DOMAIN)) for i in range(n)]
        wall = {cfg: [] for cfg in CONFIGS}
        cpu = {cfg: [] for cfg in CONFIGS}
        # round 0 is an untimed warm-up (starts the lmtp processes)
        for r in range(args.rounds + 1):
            for cfg in self.order(r):
                user = lmtp_user(cfg, r)
                dc = self.dovecots[cfg]
                lmtp = smtplib.LMTP("127.0.0.1", dc.lmtp_port, timeout=60)
                lmtp.ehlo("bench.test")
                self.cpu[cfg].start()
                t0 = time.perf_counter()
                for raw in messages:
                    refused = lmtp.sendmail(SENDER, [user], raw)
                    if refused:
                        raise RuntimeError("LMTP refused %r" % refused)
                t1 = time.perf_counter()
                used = self.cpu[cfg].stop()
                lmtp.quit()
                if r > 0:
                    wall[cfg].append(t1 - t0)
                    cpu[cfg].append(used)
                conn = dc.imap(user)
                select_all(conn, n)
                conn.logout()
            if r > 0:
                log("LMTP round %d/%d: %s", r, args.rounds, ", ".join(
                    "%s %.2fs" % (c, wall[c][-1]) for c in CONFIGS))
        self.samples["lmtp"] = {cfg: {"wall": wall[cfg], "cpu": cpu[cfg]}
                                for cfg in CONFIGS}

    # ---- c. FETCH latency

    def bench_fetch(self):
        args = self.args
        n = args.fetches
        body = body_text(40)
        variants = {
            "dnt": ("fetch-dnt@" + DOMAIN, True),
            "plain": ("fetch-plain@" + DOMAIN, None),
        }
        conns = {}
        for variant, (user, dnt) in variants.items():
            # From = Disposition-Notification-To = Return-Path, inside the
            # organisation, To the user: sent automatically in mode
            # internal with prompt=no
            messages = [rr.make_message(
                SENDER, user, "Report %d" % i, dnt=dnt, return_path=SENDER,
                body=body, message_id="<fetch-%s-%d@%s>" % (variant, i,
                                                            DOMAIN))
                for i in range(n)]
            populate_maildir(self.dovecots["module"], user, messages)
            for cfg in CONFIGS:
                dc = self.dovecots[cfg]
                conn = dc.imap(user, timeout=60)
                select_all(conn, n)
                conns[(cfg, variant)] = conn

        lat = {k: [] for k in conns}
        cpu = {k: [] for k in conns}
        # round 0 is an untimed warm-up
        for r in range(args.rounds + 1):
            for variant in variants:
                for cfg in self.order(r):
                    conn = conns[(cfg, variant)]
                    store_reset(conn, r"(\Seen $MDNSent)")
                    self.sink.clear()
                    self.cpu[cfg].start()
                    samples = self.fetch_series(conn, range(1, n + 1))
                    used = self.cpu[cfg].stop()
                    self.check_sink(cfg, variant, n if (
                        cfg == "module" and variant == "dnt") else 0)
                    if r > 0:
                        lat[(cfg, variant)].extend(samples)
                        cpu[(cfg, variant)].append(used / n)
            if r > 0:
                log("FETCH round %d/%d: %s", r, args.rounds, ", ".join(
                    "%s/%s %.2fms" % (c, v, 1000 * statistics.median(
                        lat[(c, v)][-n:]))
                    for v in variants for c in CONFIGS))
        for conn in conns.values():
            conn.logout()
        self.bench_sink_alone(n)
        for variant in variants:
            self.samples["fetch_" + variant] = {
                cfg: {"latency": lat[(cfg, variant)],
                      "cpu_per_fetch": cpu[(cfg, variant)]}
                for cfg in CONFIGS}

    def bench_sink_alone(self, n):
        """The sink's share of a receipt's latency: the same SMTP
        transaction (new connection, null sender, one MDN as the module
        sent it) from this client, without Dovecot."""
        self.sink.clear()
        conn = self.dovecots["module"].imap("fetch-dnt@" + DOMAIN)
        imap_ok(conn.select("INBOX"), "SELECT")
        store_reset(conn, r"(\Seen $MDNSent)")
        self.fetch_series(conn, [1])
        conn.logout()
        mdn = self.sink.wait_for(1)[0]
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", self.sink.port, timeout=30,
                              local_hostname="bench.test") as smtp:
                # HELO, not EHLO: the sink's multi-line EHLO answer is
                # held back ~40 ms by Nagle + delayed ACK with a Python
                # client (Dovecot's client does not see that stall)
                smtp.helo()
                smtp.sendmail("", mdn.rcpt_tos, mdn.raw)
            samples.append(time.perf_counter() - t0)
        self.sink.clear()
        self.samples["sink_alone"] = {"client": {"latency": samples}}


# ---------------------------------------------------------------- report

def fmt_s(seconds):
    return "%.3f s" % seconds


def fmt_ms(seconds):
    return "%.2f ms" % (seconds * 1000)


def ratio_str(a, b):
    return "%.3f (%+.1f %%)" % (a / b, (a / b - 1) * 100)


def report(args, facts, samples, started, duration):
    out = []
    add = out.append
    add("## Results")
    add("")
    add("Run of %s, %.0f s in all. The two instances were interleaved round "
        "by round (which one goes first alternates). Ratios are "
        "with/without module (> 1 = slower with it)." % (
            started.strftime("%Y-%m-%d %H:%M UTC"), duration))
    add("")
    if getattr(args, "other_busy", 0) > 0.10:
        add("**Warning:** %.0f %% of the CPUs were busy with other work "
            "when the run started; these numbers are noisy." % (
                args.other_busy * 100))
        add("")
    outside, capacity = getattr(args, "outside_cpu", (0.0, 0.0))
    if capacity > 0:
        add("CPU time spent outside the benchmark's own processes during "
            "the run (other work, and kernel threads such as the ext4 "
            "journal): %.1f s of %.0f s CPU capacity (%.1f %%)%s%s." % (
                outside, capacity, 100 * outside / capacity,
                "; most by %s" % ", ".join(
                    "%s %.1f s" % (name.replace("|", "/"), secs)
                    for name, secs in args.outside_top)
                if getattr(args, "outside_top", None) else "",
                "; **the machine was not quiet, these numbers are noisy**"
                if outside / capacity > 0.10 else ""))
        add("")
    add("### Throughput (wall time at the client, median / min over the "
        "rounds)")
    add("")
    add("| measurement | rounds | without module | with module | ratio of "
        "medians | ratio of mins | ratio per round (median) | server CPU "
        "ratio (medians) |")
    add("|---|---|---|---|---|---|---|---|")
    rows = [
        ("store_plain", "`STORE 1:* +FLAGS.SILENT (\\Seen)`, %d messages, "
         "none asks for a receipt" % args.messages),
        ("store_dnt", "`STORE 1:* +FLAGS.SILENT (\\Seen)`, %d messages, "
         "all with `Disposition-Notification-To`" % args.messages),
        ("lmtp", "LMTP delivery of %d messages (all with "
         "`Disposition-Notification-To`), one session" % args.deliveries),
    ]
    verdicts = []
    for key, title in rows:
        if key not in samples:
            continue
        s = samples[key]
        w0, w1 = s["stock"]["wall"], s["module"]["wall"]
        c0, c1 = s["stock"]["cpu"], s["module"]["cpu"]
        m0, m1 = statistics.median(w0), statistics.median(w1)
        paired = statistics.median(b / a for a, b in zip(w0, w1))
        add("| %s | %d | %s / %s | %s / %s | %s | %s | %s | %s |" % (
            title, len(w0), fmt_s(m0), fmt_s(min(w0)),
            fmt_s(m1), fmt_s(min(w1)), ratio_str(m1, m0),
            ratio_str(min(w1), min(w0)), ratio_str(paired, 1.0),
            ratio_str(statistics.median(c1), statistics.median(c0))))
        if key.startswith("store"):
            verdicts.append((title, (m1 / m0 - 1) * 100,
                             (statistics.median(c1) /
                              statistics.median(c0) - 1) * 100))
    add("")
    add("### `FETCH n (BODY[])` latency, one message per command")
    add("")
    add("| messages | samples | without module: median / p90 | with module: "
        "median / p90 | added (median) | server CPU per FETCH without / "
        "with |")
    add("|---|---|---|---|---|---|")
    fetch_rows = [
        ("fetch_dnt", "%d that ask for a receipt (with module: sent to the "
         "loopback sink)" % args.fetches),
        ("fetch_plain", "%d that ask for none" % args.fetches),
        ("fetch_big", "%d that ask for a receipt, spread over the "
         "%d-message `STORE` mailbox (with module: sent)" % (
             min(args.big_fetches, args.messages), args.messages)),
    ]
    for key, title in fetch_rows:
        if key not in samples:
            continue
        s = samples[key]
        l0, l1 = s["stock"]["latency"], s["module"]["latency"]
        if "cpu_per_fetch" in s["stock"]:
            cpu = "%s / %s" % (
                fmt_ms(statistics.median(s["stock"]["cpu_per_fetch"])),
                fmt_ms(statistics.median(s["module"]["cpu_per_fetch"])))
        else:
            cpu = "-"
        add("| %s | %d | %s / %s | %s / %s | %+.2f ms | %s |" % (
            title, len(l0),
            fmt_ms(statistics.median(l0)), fmt_ms(percentile(l0, 90)),
            fmt_ms(statistics.median(l1)), fmt_ms(percentile(l1, 90)),
            (statistics.median(l1) - statistics.median(l0)) * 1000, cpu))
    if "sink_alone" in samples:
        lat = samples["sink_alone"]["client"]["latency"]
        add("")
        add("For scale: the same SMTP transaction (new connection, HELO, "
            "one of the receipts) sent to the sink by the benchmark client "
            "itself, without Dovecot, takes %s median / %s p90 (%d "
            "sends); that part of the added latency is the sink's "
            "(Python, two fsyncs per message), not the module's."
            % (fmt_ms(statistics.median(lat)), fmt_ms(percentile(lat, 90)),
               len(lat)))
    add("")
    for title, pct, cpu_pct in verdicts:
        add("- Goal, at most %.0f %% slower: %s: %+.1f %% wall (median), "
            "%+.1f %% server CPU -> %s" % (
                GOAL_PERCENT, title, pct, cpu_pct,
                "met" if pct <= GOAL_PERCENT else "NOT met"))
    add("")
    add("### Machine")
    add("")
    add("| | |")
    add("|---|---|")
    for k, v in facts:
        add("| %s | %s |" % (k, v))
    add("")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=20000,
                   help="messages in the STORE mailbox (default 20000)")
    p.add_argument("--deliveries", type=int, default=2000,
                   help="LMTP deliveries per round (default 2000)")
    p.add_argument("--fetches", type=int, default=200,
                   help="FETCH BODY[] commands per round (default 200)")
    p.add_argument("--big-fetches", type=int, default=10,
                   help="FETCH BODY[] commands with a receipt per round in "
                   "the big STORE mailbox (default 10, 0 = skip)")
    p.add_argument("--rounds", type=int, default=5,
                   help="timed rounds per measurement (default 5)")
    p.add_argument("--store-rounds", type=int,
                   help="timed rounds of the STORE measurement, which is "
                   "cheap and where the goal is (default: --rounds + 4)")
    p.add_argument("--quick", action="store_true",
                   help="small counts for a smoke run (2000 messages, 200 "
                   "deliveries, 50 fetches, 5 big fetches, 3 rounds, 7 "
                   "STORE rounds) where not given")
    p.add_argument("--only", choices=("store", "lmtp", "fetch"),
                   action="append", help="run only these parts (repeatable)")
    p.add_argument("--workdir", help="directory for the instances (default: "
                   "a new one under /var/tmp, removed afterwards)")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory")
    p.add_argument("--json", metavar="FILE",
                   help="also write every sample to FILE")
    p.add_argument("--output", metavar="FILE",
                   help="also write the Markdown report to FILE")
    args = p.parse_args()
    if args.quick:
        given = set(a.split("=")[0] for a in sys.argv[1:])
        for opt, value in (("messages", 2000), ("deliveries", 200),
                           ("fetches", 50), ("big_fetches", 5),
                           ("rounds", 3)):
            if "--" + opt.replace("_", "-") not in given:
                setattr(args, opt, value)
    if args.store_rounds is None:
        args.store_rounds = args.rounds + 4
    if min(args.messages, args.deliveries, args.fetches, args.rounds,
           args.store_rounds) < 1 \
            or args.big_fetches < 0:
        p.error("counts must be at least 1 (--big-fetches: at least 0)")
    if os.geteuid() != 0:
        sys.exit("run as root (e.g. sudo ./bench/run.sh): it starts private "
                 "Dovecot instances and writes mail as the mail user")

    parts = args.only or ["store", "lmtp", "fetch"]
    own_workdir = args.workdir is None
    if own_workdir:
        args.workdir = tempfile.mkdtemp(prefix="readreceipt-bench-",
                                        dir="/var/tmp")
    else:
        os.makedirs(args.workdir, exist_ok=True)
    os.chmod(args.workdir, 0o755)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    facts = machine_facts(args.workdir)
    args.other_busy = busy = cpu_busy_by_others()
    facts.append(("CPU busy with other work just before the run",
                  "%.0f %%" % (busy * 100)))
    if busy > 0.10:
        log("warning: %.0f %% of the CPUs are busy with other work; the "
            "numbers will be noisy", busy * 100)
    started = datetime.datetime.now(datetime.timezone.utc)
    started_ts = time.monotonic()
    bench = Bench(args)
    outside = OutsideCpu()
    outside.start()
    ok = False
    try:
        bench.start()
        if "store" in parts:
            bench.bench_store()
        if "lmtp" in parts:
            bench.bench_lmtp()
        if "fetch" in parts:
            bench.bench_fetch()
        bench.check_problems()
        args.outside_cpu = outside.stop(bench)
        args.outside_top = outside.top
        ok = True
    except Interrupted as e:
        log("interrupted (%s)", e)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        bench.stop()
        if own_workdir and not args.keep and ok:
            shutil.rmtree(args.workdir, ignore_errors=True)
        elif not ok or args.keep:
            log("work directory kept: %s", args.workdir)
    if not ok:
        sys.exit(1)

    duration = time.monotonic() - started_ts
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"facts": facts, "args": vars(args),
                       "samples": bench.samples}, f, indent=1)
    facts.append(("mail_plugins of the module instance",
                  "; ".join("`%s`" % line for line in getattr(
                      bench, "mail_plugins", []))))
    facts.append(("load average at end",
                  " ".join(read_file("/proc/loadavg").split(" ")[:3])))
    text = report(args, facts, bench.samples, started, duration)
    print(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
