#!/usr/bin/python3
"""What the readreceipt storage module costs, measured on this machine.

Two private Dovecot instances run side by side on 127.0.0.1, identical
except that one loads lib20_readreceipt_plugin.so ("module") and the other
does not ("stock"). Every user of the module instance is in
readreceipt_mode=internal with readreceipt_prompt=no, so the module is
active for them. Both instances serve the same mail directories (one
shared mail root), so that the mailboxes they measure are the same files.
Measured, in one run, interleaving the instances round by round (which
goes first alternates) so that drift of the machine hits both alike
(--only selects cases: store, lmtp, fetch, load, expunge):

  a. STORE 1:* +FLAGS.SILENT (\\Seen) over --messages messages in one
     mailbox (goal: at most 5 % slower with the module), once with
     messages that ask for no receipt and once with messages that all ask
     for one. Before each timed STORE, STORE 1:* -FLAGS.SILENT (\\Seen) and
     NOOP (not timed).
  b. LMTP delivery of --deliveries messages in one LMTP session, to a
     fresh user per round.
  c. FETCH n (BODY[]) latency, one message at a time, in one mailbox whose
     messages alternate between asking for a receipt and asking for none
     (--fetches of each per series), "paced" (the client waits
     --fetch-gap after each answer) and "burst" (no wait), on three
     instances: stock, module with a healthy relay (the SMTP sink accepts;
     receipts leave after the reply, and the run waits until exactly one
     per requesting message arrived) and module with a hanging relay (a
     second sink that accepts TCP and never greets). A message gets one
     receipt ever, so every series opens messages of its own. Then
     --big-fetches messages spread over the big mailbox of (a), and, for
     scale, the bare SMTP transaction to the sink sent by this client.
  d. Load: --load-users concurrent IMAP sessions (bench/imap_load.py, one
     user each, --load-messages messages of which every other asks for a
     receipt), each looping SELECT / 3 x FETCH BODY[] / STORE / NOOP for
     --load-duration seconds; commands per second, module vs stock, the
     order alternating over --load-rounds rounds; the receipts go to the
     sink and are counted.
  e. EXPUNGE of --messages messages (all \\Deleted, never opened: no
     entries), once with messages that ask for no receipt and once with
     messages that all ask for one.

Wall time is measured at the client (from sending the command to its
tagged answer). "Server CPU" is the on-CPU time of all the instance's
processes over the same span (/proc/PID/schedstat), which is less noisy
than wall time and does not include the client.

Needs root (it starts Dovecot and writes mail as the mail user). Prints a
Markdown report; --json also writes every sample.
"""

import argparse
import asyncio
import datetime
import hashlib
import inspect
import json
import os
import re
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
sys.path.insert(0, HERE)

import rrharness as rr  # noqa: E402
import imap_load  # noqa: E402
import count_sink  # noqa: E402

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
# the FETCH case: the stock instance, the module with a healthy relay (the
# sink accepts), the module with a relay that accepts TCP and never greets
FETCH_CONFIGS = ("stock", "module", "module_hang")
FETCH_VARIANTS = {"dnt": True, "plain": None}
# "paced": the client waits --fetch-gap after each answer (a reader opens
# one message at a time); "burst": the next FETCH right after the answer
FETCH_MODES = ("paced", "burst")
# readreceipt_submission_timeout of the hang instance: longer than a
# series, so that the session's connection to the relay hangs all through
# it (after a timeout a process waits 60 s before it tries again)
HANG_TIMEOUT = 30
# the targets of the issue "outbox" (ratios with/without the module;
# FETCH: milliseconds added by a receipt, median)
# load case: which message (by its index) asks for a receipt
LOAD_ASKING = {
    "half": lambda i: i % 2 == 0,
    "none": lambda i: False,
    "all": lambda i: True,
}
LOAD_ASKING_TEXT = {
    "half": "every other one asks for a receipt",
    "none": "none asks for a receipt",
    "all": "every one asks for a receipt",
}
TARGETS = {"store": 1.01, "expunge": 1.02, "load": 0.95, "fetch_ms": 0.5}


PARTS = ("store", "lmtp", "fetch", "load", "expunge")


FETCH_USER = "fetch@" + DOMAIN


def established_to(port):
    """Established IPv4 TCP connections to 127.0.0.1:port (the client
    ends, from /proc/net/tcp)."""
    want = "0100007F:%04X" % port
    count = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            # st 01 = ESTABLISHED; the sink's own ends have it as local
            if fields[2] == want and fields[3] == "01":
                count += 1
    return count


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
        ours.update(bench.sink_pids())
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
        for pid in bench.sink_pids():
            ours += process_ticks(pid)
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
        # seconds per process name (imap, log, stats, ...) of the last span
        self.by_name = {}

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
        self.by_name = {}
        for pid, ns in after.items():
            try:
                name = read_file("/proc/%d/comm" % pid).strip()
            except OSError:
                name = "?"
            self.by_name[name] = self.by_name.get(name, 0.0) + \
                (ns - self.before.get(pid, 0)) / 1e9
        return sum(self.by_name.values())


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


# Sieve scripts run before a delivery: one that saves the message with
# $MDNSent, as the module does with a forbidden request, and one that only
# keeps it
SIEVE_MARK = 'require "imap4flags";\naddflag "$MDNSent";\n'
SIEVE_KEEP = "keep;\n"


def write_sieve_scripts(directory, pw, scripts):
    """Write scripts ({name: text}) as <directory>/<name>.sieve, readable
    by the mail user pw; returns {name: path}."""
    os.makedirs(directory, exist_ok=True)
    os.chown(directory, pw.pw_uid, pw.pw_gid)
    paths = {}
    for name, text in scripts.items():
        paths[name] = os.path.join(directory, "%s.sieve" % name)
        with open(paths[name], "w") as f:
            f.write(text)
        os.chown(paths[name], pw.pw_uid, pw.pw_gid)
    return paths


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

    def __init__(self, shared_mail_root, export_events=True, **kwargs):
        super().__init__(**kwargs)
        self.shared_mail_root = shared_mail_root
        self.export_events = export_events

    def home(self, name):
        return os.path.join(self.shared_mail_root, name)

    def config_text(self):
        text = super().config_text()
        if self.export_events:
            return text
        # as an administrator runs it: each decision logged, its event
        # not also exported as JSON (a test aid of the harness)
        return re.sub(r"event_exporter log \{.*?\n\}\n", "", re.sub(
            r"metric readreceipt_[a-z_]+ \{\n  exporter = log\n.*?\n\}\n",
            "", text, flags=re.S), flags=re.S)


def lmtp_user(cfg, round_no):
    return "lmtp-%s-%d@%s" % (cfg, round_no, DOMAIN)


class Bench:
    def __init__(self, args):
        self.args = args
        self.sink = None
        # relay hanging (sink mode "hang"), for the FETCH case
        self.hang_sink = None
        self.dovecots = {}
        self.cpu = {}
        self.samples = {}
        # one receipt as the module sent it (for the sink-alone timing)
        self.sample_receipt = None

    # ---- setup

    def start(self):
        args = self.args
        if args.light_sink:
            # counts receipts and keeps nothing (the load case only)
            self.sink = count_sink.CountingSink(
                os.path.join(args.workdir, "sink"),
                chunking=not args.sink_no_chunking).start()
        else:
            self.sink = rr.SmtpSink(
                os.path.join(args.workdir, "sink")).start()
        if args.sink_nice:
            # the relay stands in for one on another host: here it shares
            # the CPUs with the client and the server under test
            os.setpriority(os.PRIO_PROCESS, self.sink.pid, args.sink_nice)
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
                valgrind=False, debug=False, sieve=args.lmtp_mark_stock,
                export_events=not args.no_event_export, **options)
            self.dovecots[cfg] = dc
            dc.start()
            self.cpu[cfg] = ServerCpu(dc)
            log("%s instance started (imap %d, lmtp %d)", cfg,
                dc.imap_port, dc.lmtp_port)
        with open(self.dovecots["module"].config_path) as f:
            self.mail_plugins = [line.strip() for line in f
                                 if line.strip().startswith("mail_plugins")]
        marks = self.lmtp_sieve_scripts(pw) if args.lmtp_mark_stock \
            else None
        for cfg, dc in self.dovecots.items():
            for user in self.users():
                settings = dict(USER_SETTINGS)
                if marks is not None and user.startswith("lmtp-"):
                    settings.update(rr.sieve_before_settings(marks[cfg]))
                dc.add_user(user, **settings)

    def lmtp_sieve_scripts(self, pw):
        """--lmtp-mark-stock: a Sieve script before each delivery of the
        LMTP case, on both instances. Stock Dovecot's saves every message
        with $MDNSent, as the module does with every message of this case
        (their receipts are forbidden); the module instance's script does
        nothing, so that both pay for running Sieve."""
        return write_sieve_scripts(
            os.path.join(self.args.workdir, "sieve"), pw,
            {"stock": SIEVE_MARK, "module": SIEVE_KEEP})

    def users(self):
        users = ["store-plain@" + DOMAIN, "store-dnt@" + DOMAIN, FETCH_USER]
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
        for sink in (self.sink, self.hang_sink):
            if sink is not None:
                try:
                    sink.stop()
                except Exception as e:
                    log("stopping a sink: %s", e)

    def sink_pids(self):
        return [sink.pid for sink in (self.sink, self.hang_sink)
                if sink is not None and sink.pid is not None]

    def order(self, round_no, configs=CONFIGS):
        """Alternate which instance goes first, to cancel drift."""
        return configs if round_no % 2 == 0 else configs[::-1]

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

    def fetch_series(self, conn, seqs, gap=0):
        """Latency of FETCH seq (BODY[]) for each seq, one at a time;
        gap: seconds to wait after each answer (not timed)."""
        samples = []
        for seq in seqs:
            if gap and samples:
                time.sleep(gap)
            t0 = time.perf_counter()
            data = imap_ok(conn.fetch(str(seq), "(BODY[])"), "FETCH")
            samples.append(time.perf_counter() - t0)
            if not any(isinstance(d, tuple) and len(d[1]) > 1000
                       for d in data):
                raise RuntimeError("FETCH %d (BODY[]) returned no body: %r"
                                   % (seq, data[:2]))
        return samples

    def wait_sink(self, cfg, what, want, timeout=None, settle=0.2):
        """Receipts leave after the command's reply, from the imap
        process's ioloop: wait (bounded) until want of them arrived at the
        sink, then a little longer to see that no more come."""
        if timeout is None:
            timeout = 10 + 0.05 * want
        deadline = time.monotonic() + timeout
        while len(self.sink.messages()) < want \
                and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(settle)
        sent = len(self.sink.messages())
        if sent != want:
            raise RuntimeError("%s %s: %d receipts arrived at the sink, "
                               "expected %d\n%s" % (
                                   cfg, what, sent, want,
                                   self.dovecots[cfg].log_tail()))
        return sent

    def bench_big_fetch(self, conns):
        """FETCH BODY[] of single messages that get a receipt, in the big
        STORE mailbox: what one receipt costs where the mailbox is large."""
        args = self.args
        n, k = args.messages, min(args.big_fetches, args.messages)
        lat = {cfg: [] for cfg in CONFIGS}
        for r in range(args.rounds):
            # a message gets one receipt, ever (the outbox record): other
            # messages every round
            seqs = [1 + (i * (n // k) + r) % n for i in range(k)]
            for cfg in self.order(r):
                conn = conns[cfg]
                store_reset(conn, r"(\Seen $MDNSent)")
                self.sink.clear()
                lat[cfg].extend(self.fetch_series(conn, seqs))
                self.wait_sink(cfg, "big mailbox",
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
        by_process = {cfg: [] for cfg in CONFIGS}
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
                    by_process[cfg].append(dict(self.cpu[cfg].by_name))
                conn = dc.imap(user)
                select_all(conn, n)
                conn.logout()
            if r > 0:
                log("LMTP round %d/%d: %s", r, args.rounds, ", ".join(
                    "%s %.2fs" % (c, wall[c][-1]) for c in CONFIGS))
        self.samples["lmtp"] = {cfg: {"wall": wall[cfg], "cpu": cpu[cfg],
                                      "cpu_by_process": by_process[cfg]}
                                for cfg in CONFIGS}

    # ---- c. FETCH latency, relay healthy and relay hanging

    def start_hang_instance(self):
        """A second module instance whose relay hangs (sink mode "hang":
        accepts TCP, never greets). Its own mail root: the receipts it
        leaves owed must not be sent by the healthy instance."""
        args = self.args
        self.hang_sink = rr.SmtpSink(os.path.join(args.workdir, "hang-sink"),
                                     mode="hang").start()
        options = {}
        if "imap_module" in inspect.signature(
                rr.Dovecot.__init__).parameters:
            options["imap_module"] = True
        settings = dict(PLUGIN_SETTINGS)
        settings["readreceipt_submission_timeout"] = HANG_TIMEOUT
        dc = rr.Dovecot(
            workdir=os.path.join(args.workdir, "module_hang"),
            submission_host=self.hang_sink.address,
            plugin_settings=settings, load_plugin=True,
            extra_config=EXTRA_CONFIG, valgrind=False, debug=False,
            sieve=False, **options)
        self.dovecots["module_hang"] = dc
        dc.start()
        self.cpu["module_hang"] = ServerCpu(dc)
        dc.add_user(FETCH_USER, **USER_SETTINGS)
        log("module_hang instance started (imap %d, relay %s hangs)",
            dc.imap_port, self.hang_sink.address)

    def bench_fetch(self):
        args = self.args
        n = args.fetches
        self.start_hang_instance()
        body = body_text(40)
        # One mailbox whose messages alternate: asks for a receipt, asks
        # for none. A series opens 2n of them in order, so the two kinds
        # take turns in the same session at the same moment. A message
        # gets one receipt, ever (its outbox record; clearing \Seen and
        # $MDNSent does not change that): every series opens a block of
        # messages of its own.
        blocks = (args.rounds + 1) * len(FETCH_MODES)
        total = 2 * n * blocks
        user = FETCH_USER
        messages = [rr.make_message(
            SENDER, user, "Report %d" % i, dnt=True if i % 2 == 0 else None,
            return_path=SENDER, body=body,
            message_id="<fetch-%d@%s>" % (i, DOMAIN)) for i in range(total)]
        # the shared root of stock and module, and the hang instance's
        populate_maildir(self.dovecots["module"], user, messages)
        populate_maildir(self.dovecots["module_hang"], user, messages)
        dnt_seqs = None
        for cfg in ("module", "module_hang"):
            conn = self.dovecots[cfg].imap(user, timeout=120)
            select_all(conn, total)
            data = imap_ok(conn.search(
                None, "HEADER", "Disposition-Notification-To", '""'),
                "SEARCH")
            seqs = frozenset(int(x) for x in data[0].split())
            conn.logout()
            if dnt_seqs is not None and seqs != dnt_seqs:
                raise RuntimeError("FETCH: the mailboxes differ")
            dnt_seqs = seqs
        if len(dnt_seqs) != total // 2:
            raise RuntimeError("FETCH: %d messages ask for a receipt, "
                               "expected %d" % (len(dnt_seqs), total // 2))

        keys = [(cfg, variant, mode) for cfg in FETCH_CONFIGS
                for variant in FETCH_VARIANTS for mode in FETCH_MODES]
        lat = {k: [] for k in keys}
        cpu = {(cfg, mode): [] for cfg in FETCH_CONFIGS
               for mode in FETCH_MODES}
        hanging = []
        # round 0 is an untimed warm-up
        for r in range(args.rounds + 1):
            for mode_no, mode in enumerate(FETCH_MODES):
                block = r * len(FETCH_MODES) + mode_no
                seqs = list(range(block * 2 * n + 1,
                                  (block + 1) * 2 * n + 1))
                gap = args.fetch_gap if mode == "paced" else 0
                for cfg in self.order(r, FETCH_CONFIGS):
                    dc = self.dovecots[cfg]
                    # a new session per series
                    conn = dc.imap(user, timeout=60)
                    select_all(conn, total)
                    # the other instance of the shared root may have
                    # opened these already
                    imap_ok(conn.store("%d:%d" % (seqs[0], seqs[-1]),
                                       "-FLAGS.SILENT",
                                       r"(\Seen $MDNSent)"), "reset")
                    imap_ok(conn.noop(), "NOOP")
                    if cfg == "module":
                        self.sink.clear()
                    self.cpu[cfg].start()
                    samples = self.fetch_series(conn, seqs, gap)
                    if cfg == "module":
                        # the receipts leave after the replies: the
                        # server CPU includes sending them
                        self.wait_sink(cfg, "FETCH %s" % mode, n)
                        if self.sample_receipt is None:
                            self.sample_receipt = self.sink.messages()[0]
                    if cfg == "module_hang":
                        # the session's relay connection still hangs
                        hanging.append(established_to(self.hang_sink.port))
                    used = self.cpu[cfg].stop()
                    conn.logout()
                    if r > 0:
                        for seq, t in zip(seqs, samples):
                            variant = "dnt" if seq in dnt_seqs else "plain"
                            lat[(cfg, variant, mode)].append(t)
                        cpu[(cfg, mode)].append(used / len(seqs))
                if r > 0:
                    log("FETCH round %d/%d, %s: %s", r, args.rounds, mode,
                        ", ".join("%s/%s %.2fms" % (
                            c, v, 1000 * statistics.median(
                                lat[(c, v, mode)][-n:]))
                            for v in FETCH_VARIANTS for c in FETCH_CONFIGS))
        if min(hanging) < 1:
            raise RuntimeError("module_hang: a series ended without a "
                               "connection to the hanging relay: %r"
                               % hanging)
        # the hang instance sent nothing and says why: receipts owed
        hang = self.dovecots["module_hang"]
        t0 = time.perf_counter()
        # A session that logs out tries what it leaves owed once more,
        # bounded by readreceipt_submission_timeout, and does not end on
        # SIGTERM meanwhile: let those finish before stopping.
        try:
            rr.wait_until(lambda: not any(
                read_file("/proc/%d/comm" % pid).strip() == "imap"
                for pid in hang.processes()),
                HANG_TIMEOUT + 15, interval=0.5,
                what="the hang instance's imap processes to end")
        except TimeoutError as e:
            log("%s", e)
        hang.stop()
        log("module_hang instance stopped in %.1fs", time.perf_counter() - t0)
        decisions = hang.decision_lines(user)
        sent_hang = [d for d in decisions if d.get("decision") == "sent"]
        if sent_hang:
            raise RuntimeError("module_hang: %d receipts sent through a "
                               "relay that never greets" % len(sent_hang))
        self.bench_sink_alone(n)
        self.samples["fetch"] = {
            "%s/%s/%s" % k: {"latency": lat[k]} for k in keys}
        self.samples["fetch_cpu"] = {
            "%s/%s" % k: v for k, v in cpu.items()}
        self.samples["fetch_info"] = {
            "hang_connections": len(self.hang_sink.connections()),
            "hanging_at_series_end": hanging,
            "hang_queued_decisions": sum(
                1 for d in decisions if d.get("decision") == "queued"),
            "fetch_gap": args.fetch_gap,
            "hang_timeout": HANG_TIMEOUT,
        }

    def bench_sink_alone(self, n):
        """The sink's share of a receipt's latency: the same SMTP
        transaction (new connection, null sender, one MDN as the module
        sent it) from this client, without Dovecot."""
        mdn = self.sample_receipt
        self.sink.clear()
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

    # ---- d. many sessions at once (imaptest-like)

    def bench_load(self):
        args = self.args
        u, m = args.load_users, args.load_messages
        body = body_text(40)

        asking = LOAD_ASKING[args.load_asking]

        def messages(user):
            # by default half of the messages ask for a receipt (every
            # other one)
            return [rr.make_message(
                SENDER, user, "Load %d" % i,
                dnt=True if asking(i) else None, return_path=SENDER,
                body=body, message_id="<load-%d-%s>" % (i, user))
                for i in range(m)]
        results = {cfg: [] for cfg in CONFIGS}
        for r in range(args.load_rounds):
            for cfg in self.order(r):
                dc = self.dovecots[cfg]
                # fresh users every round and instance: receipts are
                # sent once per message, ever
                users = ["load-%s-%d-%d@%s" % (cfg, r, i, DOMAIN)
                         for i in range(u)]
                receipt_seqs = None
                for user in users:
                    for d in (self.dovecots["stock"],
                              self.dovecots["module"]):
                        d.add_user(user, **USER_SETTINGS)
                    populate_maildir(dc, user, messages(user))
                    # untimed: index the mailbox, learn which messages
                    # ask for a receipt
                    conn = dc.imap(user, timeout=60)
                    select_all(conn, m)
                    data = imap_ok(conn.search(
                        None, "HEADER", "Disposition-Notification-To", '""'),
                        "SEARCH")
                    seqs = frozenset(int(x) for x in data[0].split())
                    if cfg == "stock" and args.load_stock_marked and seqs:
                        # as after a client sent their receipts itself
                        imap_ok(conn.store(
                            ",".join(map(str, sorted(seqs))),
                            "+FLAGS.SILENT", "($MDNSent)"), "STORE")
                    conn.logout()
                    if receipt_seqs is None:
                        receipt_seqs = seqs
                    elif seqs != receipt_seqs:
                        raise RuntimeError("load: users' mailboxes differ")
                expected = sum(1 for i in range(m) if asking(i))
                if len(receipt_seqs) != expected:
                    raise RuntimeError("load: %d messages ask for a "
                                       "receipt, expected %d" % (
                                           len(receipt_seqs), expected))
                self.sink.clear()
                marks = {}

                def on_start():
                    marks["cpu_client"] = sum(os.times()[:2])
                    marks["sink"] = sum(process_ticks(p)
                                        for p in self.sink_pids())
                    self.cpu[cfg].start()

                def on_end():
                    marks["server_cpu"] = self.cpu[cfg].stop()
                    marks["server_cpu_by_process"] = dict(
                        self.cpu[cfg].by_name)
                    marks["cpu_client"] = sum(os.times()[:2]) - \
                        marks["cpu_client"]
                    marks["sink"] = (sum(process_ticks(p)
                                         for p in self.sink_pids())
                                     - marks["sink"]) / CLK_TCK
                    marks["sink_during"] = len(self.sink.messages())

                offset = dc.log_size()
                res = asyncio.run(imap_load.run_load(
                    dc.imap_port, users, "secret", m, args.load_duration,
                    fetches=3, receipt_seqs=receipt_seqs,
                    seed=1000 * r + 1, on_start=on_start, on_end=on_end))
                res.update(marks)
                res["server_cpu_per_command"] = \
                    res["server_cpu"] / res["commands"]
                if cfg == "module":
                    self.check_load_receipts(dc, users, res, offset)
                else:
                    res["receipts"] = len(self.sink.messages())
                    if res["receipts"]:
                        raise RuntimeError("stock instance sent receipts")
                results[cfg].append(res)
                log("load round %d/%d, %s: %.0f commands/s (%d in %.1fs), "
                    "%d receipts", r + 1, args.load_rounds, cfg,
                    res["commands_per_second"], res["commands"],
                    res["elapsed"], res["receipts"])
        self.samples["load"] = results

    def check_load_receipts(self, dc, users, res, offset):
        """Every message that asks for a receipt and was first made \\Seen
        by opening it got one; the sink has what the module says it
        sent."""
        lo = res["receipt_opens"]
        hi = lo + res["receipt_marks"]
        deadline = time.monotonic() + 30 + 0.05 * hi
        while time.monotonic() < deadline:
            got = len(self.sink.messages())
            sent = sum(1 for d in dc.decision_lines(offset=offset)
                       if d.get("decision") == "sent")
            if got >= lo and got == sent:
                time.sleep(1.0)
                if len(self.sink.messages()) == got:
                    break
            time.sleep(0.1)
        got = len(self.sink.messages())
        decisions = [d for d in dc.decision_lines(offset=offset)
                     if d.get("decision") in ("sent", "queued", "failed")]
        sent = sum(1 for d in decisions if d.get("decision") == "sent")
        if not (lo <= got <= hi) or got != sent or len(decisions) != sent:
            raise RuntimeError(
                "load, module: %d receipts at the sink, %d decisions "
                "'sent' (of %d), expected between %d (opened) and %d "
                "(opened or marked)\n%s" % (got, sent, len(decisions), lo,
                                            hi, dc.log_tail()))
        res["receipts"] = got

    # ---- e. EXPUNGE

    def bench_expunge(self):
        args = self.args
        n = args.messages
        body = body_text(20)
        variants = {"plain": None, "dnt": True}
        texts = {variant: [rr.make_message(
            SENDER, "expunge@" + DOMAIN, "Old %d" % i, dnt=dnt,
            return_path=SENDER, body=body,
            message_id="<expunge-%s-%d@%s>" % (variant, i, DOMAIN))
            for i in range(n)] for variant, dnt in variants.items()}
        wall = {(cfg, v): [] for cfg in CONFIGS for v in variants}
        cpu = {(cfg, v): [] for cfg in CONFIGS for v in variants}
        users = []
        # round 0 is an untimed warm-up
        for r in range(args.expunge_rounds + 1):
            for variant in variants:
                for cfg in self.order(r):
                    dc = self.dovecots[cfg]
                    user = "expunge-%s-%s-%d@%s" % (variant, cfg, r, DOMAIN)
                    users.append(user)
                    for d in (self.dovecots["stock"],
                              self.dovecots["module"]):
                        d.add_user(user, **USER_SETTINGS)
                    populate_maildir(dc, user, texts[variant])
                    conn = dc.imap(user, timeout=600)
                    select_all(conn, n)
                    # untimed: mark all \Deleted (no \Seen: no message
                    # gets an outbox record or a pending entry)
                    imap_ok(conn.store("1:*", "+FLAGS.SILENT",
                                       r"(\Deleted)"), "STORE \\Deleted")
                    imap_ok(conn.noop(), "NOOP")
                    self.cpu[cfg].start()
                    t0 = time.perf_counter()
                    imap_ok(conn.expunge(), "EXPUNGE")
                    t1 = time.perf_counter()
                    used = self.cpu[cfg].stop()
                    select_all(conn, 0)
                    conn.logout()
                    if r > 0:
                        wall[(cfg, variant)].append(t1 - t0)
                        cpu[(cfg, variant)].append(used)
            if r > 0:
                log("EXPUNGE round %d/%d: %s", r, args.expunge_rounds,
                    ", ".join("%s/%s %.3fs" % (c, v, wall[(c, v)][-1])
                              for v in variants for c in CONFIGS))
        # nothing to decide: no \Seen change
        for user in users:
            if self.dovecots["module"].decision_lines(user):
                raise RuntimeError("module instance: decisions for %s"
                                   % user)
        for variant in variants:
            self.samples["expunge_" + variant] = {
                cfg: {"wall": wall[(cfg, variant)],
                      "cpu": cpu[(cfg, variant)]} for cfg in CONFIGS}


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
    rows = [
        ("store_plain", "`STORE 1:* +FLAGS.SILENT (\\Seen)`, %d messages, "
         "none asks for a receipt" % args.messages),
        ("store_dnt", "`STORE 1:* +FLAGS.SILENT (\\Seen)`, %d messages, "
         "all with `Disposition-Notification-To`" % args.messages),
        ("expunge_plain", "`EXPUNGE` of %d messages (all `\\Deleted`, no "
         "entries), none asks for a receipt" % args.messages),
        ("expunge_dnt", "`EXPUNGE` of %d messages (all `\\Deleted`, no "
         "entries), all with `Disposition-Notification-To`"
         % args.messages),
        ("lmtp", "LMTP delivery of %d messages (all with "
         "`Disposition-Notification-To`), one session%s" % (
             args.deliveries, "; stock saves them with `$MDNSent` (Sieve)"
             if args.lmtp_mark_stock else "")),
    ]
    verdicts = []
    if any(key in samples for key, _ in rows):
        add("### Throughput (wall time at the client, median / min over "
            "the rounds)")
        add("")
        add("| measurement | rounds | without module | with module | ratio "
            "of medians | ratio of mins | ratio per round (median) | server "
            "CPU ratio (medians) |")
        add("|---|---|---|---|---|---|---|---|")
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
        kind = key.split("_")[0]
        if kind in TARGETS:
            target = TARGETS[kind]
            cpu_ratio = statistics.median(c1) / statistics.median(c0)
            verdicts.append("%s: %.3f (%+.1f %%) wall, %.3f per round, "
                            "%.3f server CPU; target <= %.2f -> **%s**" % (
                                title, m1 / m0, (m1 / m0 - 1) * 100, paired,
                                cpu_ratio, target,
                                "met" if m1 / m0 <= target else "missed"))
            if kind == "store":
                verdicts.append("(older goal, at most %.0f %% slower: %s)"
                                % (GOAL_PERCENT, "met" if (m1 / m0 - 1) *
                                   100 <= GOAL_PERCENT else "NOT met"))
    add("")
    if "lmtp" in samples and "cpu_by_process" in samples["lmtp"]["stock"]:
        lm = samples["lmtp"]
        names = sorted({n for cfg in CONFIGS
                        for x in lm[cfg]["cpu_by_process"] for n in x})
        add("LMTP, server CPU by process, microseconds per delivery "
            "(median of the rounds):")
        add("")
        add("| process | stock | module | module - stock |")
        add("|---|---|---|---|")
        for name in names:
            us = [statistics.median(1e6 * x.get(name, 0) / args.deliveries
                                    for x in lm[cfg]["cpu_by_process"])
                  for cfg in CONFIGS]
            if max(us) >= 0.5:
                add("| %s | %.1f | %.1f | %+.1f |" % (
                    name, us[0], us[1], us[1] - us[0]))
        add("")

    if "fetch" in samples:
        f = samples["fetch"]
        info = samples.get("fetch_info", {})
        add("### `FETCH n (BODY[])` latency, one message per command")
        add("")
        add("Median / p90 over %d FETCHes of each kind; the two kinds "
            "alternate in the same session. \"paced\": the client waits "
            "%.0f ms after each answer; \"burst\": the next FETCH follows "
            "the answer at once (so it meets the previous receipt's sending "
            "in the same process). Relay hanging: the sink accepts TCP and "
            "never greets, `readreceipt_submission_timeout = %d`." % (
                len(f["stock/dnt/paced"]["latency"]),
                1000 * info.get("fetch_gap", 0), info.get("hang_timeout", 0)))
        add("")
        add("| series | message | stock | module, relay healthy | module, "
            "relay hanging |")
        add("|---|---|---|---|---|")
        med = {}
        for mode in FETCH_MODES:
            for variant, title in (("dnt", "gets a receipt (stock: asks "
                                    "for one)"), ("plain", "asks for none")):
                cells = []
                for cfg in FETCH_CONFIGS:
                    lat = f["%s/%s/%s" % (cfg, variant, mode)]["latency"]
                    med[(cfg, variant, mode)] = statistics.median(lat)
                    cells.append("%s / %s" % (fmt_ms(statistics.median(lat)),
                                              fmt_ms(percentile(lat, 90))))
                add("| %s | %s | %s |" % (mode, title, " | ".join(cells)))
        add("")
        add("| series | added by a receipt (median), module: vs a message "
            "that asks for none / vs stock | relay healthy | relay hanging "
            "|")
        add("|---|---|---|---|")
        for mode in FETCH_MODES:
            cells = []
            for cfg in ("module", "module_hang"):
                d_plain = (med[(cfg, "dnt", mode)] -
                           med[(cfg, "plain", mode)]) * 1000
                d_stock = (med[(cfg, "dnt", mode)] -
                           med[("stock", "dnt", mode)]) * 1000
                cells.append("%+.2f ms / %+.2f ms" % (d_plain, d_stock))
                verdicts.append(
                    "FETCH BODY[] of a message that gets a receipt, %s, "
                    "relay %s: %+.2f ms vs a message that asks for none, "
                    "%+.2f ms vs stock (median); target <= +%.1f ms -> "
                    "**%s**" % (mode, "healthy" if cfg == "module" else
                                "hanging", d_plain, d_stock,
                                TARGETS["fetch_ms"],
                                "met" if max(d_plain, d_stock) <=
                                TARGETS["fetch_ms"] else "missed"))
            add("| %s | | %s |" % (mode, " | ".join(cells)))
        add("")
        cpu = samples.get("fetch_cpu", {})
        if cpu:
            add("Server CPU per FETCH (median over the rounds, both kinds; "
                "relay healthy: including sending the receipts): %s." %
                ", ".join("%s %s %s" % (
                    cfg, mode, fmt_ms(statistics.median(
                        cpu["%s/%s" % (cfg, mode)])))
                    for mode in FETCH_MODES for cfg in FETCH_CONFIGS))
            add("")
        add("Receipts: with the healthy relay exactly one per message that "
            "asks for one arrived at the sink in every series (checked). "
            "The hanging relay got %d connections; every series of the "
            "hang instance ended with a connection still hanging "
            "(established at series end: %s); none was sent, %d "
            "`queued`/`retry` decisions." % (
                info.get("hang_connections", 0),
                info.get("hanging_at_series_end"),
                info.get("hang_queued_decisions", 0)))
        add("")
    if "fetch_big" in samples:
        s = samples["fetch_big"]
        l0, l1 = s["stock"]["latency"], s["module"]["latency"]
        add("FETCH BODY[] of %d messages that get a receipt, spread over the "
            "%d-message `STORE` mailbox (%d samples): stock %s / %s, module "
            "%s / %s (median / p90), %+.2f ms." % (
                min(args.big_fetches, args.messages), args.messages,
                len(l0), fmt_ms(statistics.median(l0)),
                fmt_ms(percentile(l0, 90)), fmt_ms(statistics.median(l1)),
                fmt_ms(percentile(l1, 90)),
                (statistics.median(l1) - statistics.median(l0)) * 1000))
        add("")
    if "sink_alone" in samples:
        lat = samples["sink_alone"]["client"]["latency"]
        add("For scale: one SMTP transaction (new connection, HELO, one of "
            "the receipts) sent to the sink by the benchmark client itself "
            "takes %s median / %s p90 (%d sends); the FETCH no longer waits "
            "for it." % (fmt_ms(statistics.median(lat)),
                         fmt_ms(percentile(lat, 90)), len(lat)))
        add("")

    if "load" in samples:
        ld = samples["load"]
        add("### Many sessions at once (bench/imap_load.py)")
        add("")
        add("%d sessions (one user each, %d messages, %s), each looping "
            "SELECT, 3 x FETCH BODY[] of a random message, STORE of a "
            "random flag, NOOP, for %.0f s.%s" % (
                args.load_users, args.load_messages,
                LOAD_ASKING_TEXT[args.load_asking], args.load_duration,
                " Stock's messages that ask for a receipt carry "
                "`$MDNSent` from the start (--load-stock-marked)."
                if args.load_stock_marked else ""))
        add("")
        add("| round | instance | commands/s | commands | FETCH median | "
            "server CPU per command | client CPU | receipts (sink CPU) |")
        add("|---|---|---|---|---|---|---|---|")
        for r in range(len(ld["stock"])):
            for cfg in CONFIGS:
                x = ld[cfg][r]
                add("| %d | %s | %.0f | %d | %s | %s | %.1f s | %d (%.1f s) "
                    "|" % (r + 1, cfg, x["commands_per_second"],
                           x["commands"],
                           fmt_ms(x["median_latency"]["FETCH"]),
                           fmt_ms(x["server_cpu_per_command"]),
                           x["cpu_client"], x["receipts"], x["sink"]))
        c0 = [x["commands_per_second"] for x in ld["stock"]]
        c1 = [x["commands_per_second"] for x in ld["module"]]
        m0, m1 = statistics.median(c0), statistics.median(c1)
        paired = statistics.median(b / a for a, b in zip(c0, c1))
        p0 = statistics.median(x["server_cpu_per_command"]
                               for x in ld["stock"])
        p1 = statistics.median(x["server_cpu_per_command"]
                               for x in ld["module"])
        add("")
        add("Commands per second, module / stock: %.3f (ratio of medians "
            "%.0f / %.0f), %.3f per round; server CPU per command %.3f." % (
                m1 / m0, m1, m0, paired, p1 / p0))
        add("")
        names = sorted({n for cfg in CONFIGS for x in ld[cfg]
                        for n in x.get("server_cpu_by_process", {})})
        if names:
            add("Server CPU by process, microseconds per command (median "
                "of the rounds):")
            add("")
            add("| process | stock | module | module - stock |")
            add("|---|---|---|---|")
            for name in names:
                us = [statistics.median(
                    1e6 * x.get("server_cpu_by_process", {}).get(name, 0) /
                    x["commands"] for x in ld[cfg]) for cfg in CONFIGS]
                if max(us) >= 0.5:
                    add("| %s | %.1f | %.1f | %+.1f |" % (
                        name, us[0], us[1], us[1] - us[0]))
            add("")
        # the goal is set for half of the messages asking, against stock
        # as it is (not with $MDNSent set beforehand)
        if args.load_asking == "half" and not args.load_stock_marked:
            verdicts.append("load, commands per second module / stock: %.3f "
                            "(median), %.3f per round; target >= %.2f -> "
                            "**%s**" % (m1 / m0, paired, TARGETS["load"],
                                        "met" if m1 / m0 >= TARGETS["load"]
                                        else "missed"))

    if verdicts:
        add("### Targets")
        add("")
        for v in verdicts:
            add("- " + v)
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
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
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
    p.add_argument("--fetch-gap", type=float, default=0.02,
                   help="seconds the client waits after each answer in the "
                   "paced FETCH series (default 0.02)")
    p.add_argument("--load-users", type=int, default=20,
                   help="load case: concurrent sessions, one user each "
                   "(default 20)")
    p.add_argument("--load-messages", type=int, default=200,
                   help="load case: messages per mailbox (default 200)")
    p.add_argument("--lmtp-mark-stock", action="store_true",
                   help="LMTP case: stock Dovecot saves every message with "
                   "$MDNSent (a Sieve addflag), as the module does with "
                   "every message of that case; both instances run Sieve. "
                   "Shows what the module costs beyond the keyword")
    p.add_argument("--load-asking", choices=sorted(LOAD_ASKING),
                   default="half",
                   help="load case: which messages ask for a receipt: "
                   "every other one (half, the default), none or all; "
                   "none shows what the module costs where no receipt is "
                   "asked for")
    p.add_argument("--load-duration", type=float, default=25.0,
                   help="load case: seconds per run (default 25)")
    p.add_argument("--load-rounds", type=int, default=2,
                   help="load case: rounds, each runs both instances "
                   "(default 2)")
    p.add_argument("--expunge-rounds", type=int,
                   help="timed rounds of the EXPUNGE case (default: "
                   "--rounds)")
    p.add_argument("--quick", action="store_true",
                   help="small counts for a smoke run (2000 messages, 200 "
                   "deliveries, 50 fetches, 5 big fetches, 3 rounds, 7 "
                   "STORE rounds; load: 5 users, 50 messages, 5 s, 1 "
                   "round) where not given")
    p.add_argument("--only", choices=PARTS, action="append",
                   help="run only these cases (repeatable): store = STORE "
                   "1:* +FLAGS.SILENT (\\Seen) over --messages (and the "
                   "--big-fetches); lmtp = LMTP delivery; fetch = FETCH "
                   "BODY[] latency of messages that get a receipt and of "
                   "messages that ask for none, relay healthy and relay "
                   "hanging; load = --load-users concurrent sessions "
                   "looping SELECT/FETCH BODY[]/STORE/NOOP (imaptest-like, "
                   "bench/imap_load.py), commands per second; expunge = "
                   "EXPUNGE of --messages messages without entries. "
                   "Default: all")
    p.add_argument("--workdir", help="directory for the instances (default: "
                   "a new one under /var/tmp, removed afterwards)")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory")
    p.add_argument("--json", metavar="FILE",
                   help="also write every sample to FILE")
    p.add_argument("--output", metavar="FILE",
                   help="also write the Markdown report to FILE")
    p.add_argument("--no-event-export", action="store_true",
                   help="without the harness' JSON export of every event "
                   "(each decision is still logged, as in production)")
    p.add_argument("--sink-nice", type=int, default=0, metavar="N",
                   help="run the SMTP sink (the relay receipts go to) at "
                   "this nice level, e.g. 19 (default 0)")
    p.add_argument("--light-sink", action="store_true",
                   help="the load case with bench/count_sink.py as the "
                   "relay: it counts the receipts and keeps nothing, so "
                   "that it takes little of the CPUs the client and the "
                   "server share with it (needs --only load)")
    p.add_argument("--sink-no-chunking", action="store_true",
                   help="with --light-sink: the relay offers no CHUNKING "
                   "(Postfix and Exim do by default), so the receipts go "
                   "in DATA after the relay's 354")
    p.add_argument("--load-stock-marked", action="store_true",
                   help="the load case with stock's messages that ask for "
                   "a receipt saved with $MDNSent before the round, as "
                   "after a client sent their receipts itself: what the "
                   "keyword costs Dovecot, set apart from the module")
    p.add_argument("--policy-refresh", metavar="TIME",
                   help="readreceipt_policy_refresh of the module instances "
                   "(default: the module's, 5m); e.g. 1s to measure the "
                   "refresh itself")
    args = p.parse_args()
    if args.policy_refresh:
        PLUGIN_SETTINGS["readreceipt_policy_refresh"] = args.policy_refresh
    if args.quick:
        given = set(a.split("=")[0] for a in sys.argv[1:])
        for opt, value in (("messages", 2000), ("deliveries", 200),
                           ("fetches", 50), ("big_fetches", 5),
                           ("rounds", 3), ("load_users", 5),
                           ("load_messages", 50), ("load_duration", 5.0),
                           ("load_rounds", 1)):
            if "--" + opt.replace("_", "-") not in given:
                setattr(args, opt, value)
    if args.store_rounds is None:
        args.store_rounds = args.rounds + 4
    if args.expunge_rounds is None:
        args.expunge_rounds = args.rounds
    if min(args.messages, args.deliveries, args.fetches, args.rounds,
           args.store_rounds, args.expunge_rounds, args.load_users,
           args.load_messages, args.load_rounds) < 1 \
            or args.big_fetches < 0:
        p.error("counts must be at least 1 (--big-fetches: at least 0)")
    if not 0 < args.load_duration <= 600 or not 0 <= args.fetch_gap <= 1:
        p.error("--load-duration: 0 < seconds <= 600; --fetch-gap: "
                "0 <= seconds <= 1")
    if os.geteuid() != 0:
        sys.exit("run as root (e.g. sudo ./bench/run.sh): it starts private "
                 "Dovecot instances and writes mail as the mail user")

    parts = args.only or list(PARTS)
    if args.light_sink and parts != ["load"]:
        p.error("--light-sink: only with --only load (the other cases read "
                "the receipts the sink keeps)")
    if args.sink_no_chunking and not args.light_sink:
        p.error("--sink-no-chunking: only with --light-sink")
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
        if "load" in parts:
            bench.bench_load()
        if "expunge" in parts:
            bench.bench_expunge()
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
    facts.append(("nice level of the SMTP sink", str(args.sink_nice)))
    facts.append(("SMTP sink", "bench/%s (counts, keeps nothing; %s)"
                  % (bench.sink.kind,
                     "PIPELINING" if args.sink_no_chunking else
                     "PIPELINING, CHUNKING") if args.light_sink else
                  "the test harness' (parses and stores each message)"))
    facts.append(("events exported as JSON", "no" if args.no_event_export
                  else "yes (the harness' test aid)"))
    facts.append(("plugin settings of the module instances",
                  ", ".join("`%s = %s`" % kv
                            for kv in sorted(PLUGIN_SETTINGS.items()))))
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
