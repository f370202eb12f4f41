#!/usr/bin/python3
"""What one receipt costs the imap process that opens its message.

One private Dovecot with the modules, bench/count_sink (the relay stand-in
that counts and keeps nothing), and users that each get --messages
messages asking for a receipt. For each round, one user with receipts
sent automatically (readreceipt_mode=internal, readreceipt_prompt=no) and
one with readreceipt_mode=disabled open every message with FETCH n
(BODY[]) in one IMAP session; the on-CPU time of the session's imap
process (/proc/PID/schedstat) from before the first FETCH until the
receipts have left is divided by the number of messages. The difference
is what deciding, recording and sending a receipt costs that process (the
relay's, log and stats processes' CPU is not in it). After each session,
the caching decisions in the user's index (doveadm dump) show which header
fields Dovecot has started to cache for every message because the module
read them. --perf DIR also
records each session with perf (DWARF call chains) into DIR; --syscalls
counts the session's system calls with strace instead of timing it (the
counts do not depend on how busy the machine is).

    sudo /usr/bin/python3 bench/receipt_cpu.py [--messages 100] [--rounds 3]
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))
sys.path.insert(0, HERE)

import rrharness as rr  # noqa: E402
import count_sink  # noqa: E402

KINDS = {
    "receipt": dict(readreceipt_mode="internal", readreceipt_prompt="no"),
    "disabled": dict(readreceipt_mode="disabled"),
}


def on_cpu_seconds(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0]) / 1e9


def cached_headers(index_path):
    """The header fields (hdr.*) whose caching decision in the index is
    not "no": Dovecot adds them to the cache file of every message."""
    out = subprocess.run(["doveadm", "dump", index_path],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         universal_newlines=True).stdout
    fields = []
    in_fields = False
    for line in out.splitlines():
        if line.startswith("-- Cache fields"):
            in_fields = True
        elif line.startswith("--"):
            in_fields = False
        elif in_fields:
            parts = line.split()
            if len(parts) >= 5 and parts[1].startswith("hdr.") and \
                    parts[4] != "no":
                fields.append(parts[1][4:])
    return sorted(fields)


def strace_counts(path):
    """{syscall: calls} from an strace -c report."""
    counts = {}
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 5 and fields[0][0].isdigit() and \
                    fields[-1] != "total":
                counts[fields[-1]] = int(fields[3])
    return counts


def session(dc, sink, user, n, perf_file, strace_file=None, gap=0.0):
    conn = dc.imap(user)
    rr.imap_check(conn.select("INBOX"))
    pid = dc.session_pid(conn)
    perf = None
    if perf_file:
        perf = subprocess.Popen(
            ["perf", "record", "-q", "-F", "1999", "--call-graph",
             "dwarf,16384", "-o", perf_file, "-p", str(pid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
    strace = None
    if strace_file:
        strace = subprocess.Popen(
            ["strace", "-c", "-o", strace_file, "-p", str(pid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
    before_sink = len(sink.messages())
    cpu0 = on_cpu_seconds(pid)
    for seq in range(1, n + 1):
        rr.imap_check(conn.fetch(str(seq), "(BODY[])"))
        if gap > 0:
            time.sleep(gap)
    if user.startswith("receipt"):
        rr.wait_until(lambda: len(sink.messages()) - before_sink >= n,
                      rr.scaled(60), what="%d receipts" % n)
    # the last receipt's record is written after the relay's answer
    time.sleep(0.5)
    rr.imap_check(conn.noop())
    cpu = on_cpu_seconds(pid) - cpu0
    if perf is not None:
        perf.send_signal(signal.SIGINT)
        perf.wait()
    if strace is not None:
        strace.send_signal(signal.SIGINT)
        strace.wait()
    conn.logout()
    return cpu, len(sink.messages()) - before_sink


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=100)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--perf", metavar="DIR",
                   help="record each session with perf into DIR")
    p.add_argument("--gap", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long after each FETCH's answer (default "
                        "0: the next FETCH follows at once, while the "
                        "previous receipt may still be on its way)")
    p.add_argument("--syscalls", action="store_true",
                   help="count each session's system calls (strace -c)")
    p.add_argument("--dir", default="/var/tmp",
                   help="where the work directory (mail, indexes) is made "
                        "(default /var/tmp)")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory (Dovecot's log, mail)")
    args = p.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root: it starts Dovecot")

    work = tempfile.mkdtemp(prefix="readreceipt-receipt-cpu-",
                            dir=args.dir)
    os.chmod(work, 0o755)
    sink = count_sink.CountingSink(os.path.join(work, "sink")).start()
    dc = rr.Dovecot(workdir=os.path.join(work, "dovecot"),
                    submission_host=sink.address,
                    plugin_settings={"readreceipt_mode": "disabled",
                                     "readreceipt_hide_forbidden": "no",
                                     "readreceipt_max_per_hour": "1000000"})
    dc.start()
    results = {kind: [] for kind in KINDS}
    cache_bytes = {kind: [] for kind in KINDS}
    syscalls = {kind: [] for kind in KINDS}
    try:
        for r in range(args.rounds):
            # which kind goes first alternates
            kinds = list(KINDS) if r % 2 == 0 else list(reversed(KINDS))
            for kind in kinds:
                user = "%s-%d@example.com" % (kind, r)
                dc.add_user(user, **KINDS[kind])
                for i in range(args.messages):
                    dc.deliver(user, rr.make_message(
                        "boss@example.com", user, "Report %d" % i,
                        body="The figures are attached.\n" * 40))
                perf_file = None
                if args.perf:
                    os.makedirs(args.perf, exist_ok=True)
                    perf_file = os.path.join(args.perf, "%s-%d.data"
                                             % (kind, r))
                strace_file = os.path.join(work, "strace-%s-%d" % (
                    kind, r)) if args.syscalls else None
                cpu, receipts = session(dc, sink, user, args.messages,
                                        perf_file, strace_file, args.gap)
                if strace_file:
                    syscalls[kind].append(strace_counts(strace_file))
                expected = args.messages if kind == "receipt" else 0
                if receipts != expected:
                    raise RuntimeError("%s: %d receipts, expected %d"
                                       % (user, receipts, expected))
                results[kind].append(cpu * 1000 / args.messages)
                cache_bytes[kind].append(cached_headers(os.path.join(
                    dc.home(user), "Maildir", "dovecot.index")))
                print("round %d, %s: %.3f ms of imap CPU per message"
                      % (r + 1, kind, results[kind][-1]), flush=True)
        problems = dc.problems()
        if problems:
            raise RuntimeError("Dovecot logged problems:\n%s"
                               % "\n".join(map(str, problems)))
    finally:
        dc.stop()
        sink.stop()

    med = {k: statistics.median(v) for k, v in results.items()}
    print()
    print("| per opened message, imap process CPU (median of %d rounds) "
          "| ms |" % args.rounds)
    print("|---|---|")
    print("| receipt sent (module decides, records, sends) | %.3f |"
          % med["receipt"])
    print("| readreceipt_mode = disabled | %.3f |" % med["disabled"])
    print("| added by a receipt | %.3f |" % (med["receipt"] - med["disabled"]))
    print()
    print("| after the session (round 1) | receipts sent | mode disabled |")
    print("|---|---|---|")
    print("| header fields cached for every message | %s | %s |" % tuple(
        ", ".join(cache_bytes[k][0]) or "none" for k in
        ("receipt", "disabled")))
    if args.syscalls:
        # the first round's counts: they are the same in every round
        # but for the few a timing decides
        print()
        print("| system calls per opened message (round 1) | receipts "
              "sent | mode disabled | added by a receipt |")
        print("|---|---|---|---|")
        first = {k: v[0] for k, v in syscalls.items()}
        names = sorted(set(first["receipt"]) | set(first["disabled"]),
                       key=lambda c: -(first["receipt"].get(c, 0) -
                                       first["disabled"].get(c, 0)))
        total = {k: sum(v.values()) for k, v in first.items()}
        print("| all | %.1f | %.1f | %+.1f |" % (
            total["receipt"] / args.messages,
            total["disabled"] / args.messages,
            (total["receipt"] - total["disabled"]) / args.messages))
        for name in names[:12]:
            a = first["receipt"].get(name, 0) / args.messages
            b = first["disabled"].get(name, 0) / args.messages
            print("| %s | %.1f | %.1f | %+.1f |" % (name, a, b, a - b))
    print()
    print("relay stand-in: bench/%s" % sink.kind)
    if args.keep:
        print("work directory kept: %s" % work)
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
