"""The demo (scripts/demo.py): every command of its closing lines works as
printed.

The demo runs as a user runs it, in a directory of its own
(READRECEIPT_DEMO_DIR); the lines it marks as commands ("  $ ...") are run
with a shell exactly as printed, in the printed order, and each one must
show what its line promises. Its stop command must leave nothing behind:
no process, no link in Dovecot's module directories.
"""

import json
import os
import re
import subprocess
import time

import pytest

import rrharness
from rrharness import disposition_fields

DEMO = os.path.join(rrharness.SOURCE_ROOT, "scripts", "demo.py")
MARK = "  $ "
DOVEADM_LINK = os.path.join(rrharness.DOVEADM_MODULE_DIR,
                            rrharness.DOVEADM_MODULE_FILE)
SETTINGS_LINK = os.path.join(rrharness.SETTINGS_MODULE_DIR,
                             rrharness.SETTINGS_MODULE_FILE)
ASKED_USER = "bob@example.com"


def shell(command, timeout=60):
    return subprocess.run(["/bin/sh", "-c", command],
                          stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=rrharness.scaled(timeout))


def link_state(path):
    return os.readlink(path) if os.path.islink(path) else \
        os.path.lexists(path)


def printed_commands(output):
    """{what: command line} of the lines marked as commands."""
    kinds = [
        ("policy", r"^doveadm -c \S+ readreceipt policy -u "),
        ("list", r"^doveadm -c \S+ readreceipt list -u "),
        ("metadata", r"^python3 -c .*GETMETADATA"),
        ("send", r"^doveadm -c \S+ readreceipt send -u "),
        ("flush", r"^doveadm -c \S+ readreceipt flush -A$"),
        ("refresh", r"^doveadm -c \S+ readreceipt refresh -A$"),
        ("ls", r"^ls "),
        ("reopen", r"^curl .*UID=1'$"),
        ("deliver", r"demo\.sh --deliver$"),
        ("stop", r"demo\.sh --stop$"),
    ]
    lines = [line[len(MARK):] for line in output.splitlines()
             if line.startswith(MARK)]
    found = {}
    for line in lines:
        kind = [k for k, regex in kinds if re.search(regex, line)]
        assert len(kind) == 1, "unexpected command line %r" % line
        found[kind[0]] = line
    assert [k for k, _ in kinds] == list(found), lines
    return found


def run(command, what):
    res = shell(command)
    assert res.returncode == 0, "%s (%s): rc=%d\nstdout:\n%s\nstderr:\n%s" \
        % (what, command, res.returncode, res.stdout, res.stderr)
    return res.stdout


def test_demo_commands_work_as_printed(workdir):
    if os.path.lexists(DOVEADM_LINK):
        pytest.skip("%s exists (another run or an installed package): the "
                    "demo would use it, not its own" % DOVEADM_LINK)
    settings_link_before = link_state(SETTINGS_LINK)
    demo_dir = os.path.join(workdir, "demo")
    env = dict(os.environ, READRECEIPT_DEMO_DIR=demo_dir)
    stop = [rrharness.PYTHON, DEMO, "--stop"]
    try:
        res = subprocess.run([rrharness.PYTHON, DEMO], env=env,
                             stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, timeout=rrharness.scaled(60))
        assert res.returncode == 0, res
        commands = printed_commands(res.stdout)
        with open(os.path.join(demo_dir, "demo.json")) as f:
            state = json.load(f)
        sink = rrharness.SmtpSink(os.path.join(demo_dir, "sink"))
        assert len(sink.messages()) == 1, res.stdout
        assert os.readlink(DOVEADM_LINK).startswith(demo_dir + os.sep)

        out = run(commands["policy"], "policy")
        assert re.search(r"(?m)^readreceipt_mode\s+internal\s+userdb\s*$",
                         out), out

        uid = int(commands["send"].split()[-1])
        out = run(commands["list"], "list")
        rows = [line.split() for line in out.splitlines()[1:]]
        assert [(r[0], r[1], r[2]) for r in rows] == \
            [("INBOX", str(uid), "unprompted")], out
        message_id = rows[0][-1]

        out = run(commands["metadata"], "GETMETADATA")
        assert "%s%d" % (rrharness.PENDING_PREFIX, uid) in out, out
        assert '"reason":"unprompted"' in out and message_id in out, out

        run(commands["send"], "send")
        receipts = sink.wait_for(2)
        assert len(receipts) == 2, receipts
        fields = disposition_fields(receipts[1].msg)
        assert fields["disposition"].replace(" ", "") == \
            "manual-action/MDN-sent-manually;displayed", fields
        assert fields["original-message-id"] == message_id, fields
        assert ASKED_USER in receipts[1].raw.decode(), receipts[1].raw

        out = run(commands["flush"], "flush -A")
        assert sorted(line.split() for line in out.splitlines()[1:]) == [
            ["alice@example.com", "0"], [ASKED_USER, "0"]], out
        out = run(commands["refresh"], "refresh -A")
        assert sorted(line.split()[:2] for line in out.splitlines()[1:]) \
            == [["alice@example.com", "valid"], [ASKED_USER, "valid"]], out

        out = run(commands["ls"], "ls")
        assert len(re.findall(r"\.eml\b", out)) == 2, out

        # the first message again: no second receipt
        out = run(commands["reopen"], "curl")
        assert "Subject: Quarterly report" in out, out

        out = run(commands["deliver"], "--deliver")
        opener = re.search(r"(?m)^  (curl .*UID=2')$", out)
        assert opener, out
        run(opener.group(1), "the curl that --deliver printed")
        receipts = sink.wait_for(3)
        assert len(receipts) == 3, receipts
        time.sleep(0.5)
        assert len(sink.messages()) == 3, sink.messages()

        dc = rrharness.Dovecot(workdir=os.path.join(demo_dir, "dovecot"))
        dc.master_pid = state["dovecot_pid"]
        pids = dc.processes() + [state["sink_pid"]]
        assert len(pids) > 3, pids
        run(commands["stop"], "--stop")
        alive = [p for p in pids if rrharness.pid_alive(p)]
        assert alive == [], alive
        assert not os.path.lexists(DOVEADM_LINK)
        assert link_state(SETTINGS_LINK) == settings_link_before
        assert not os.path.exists(os.path.join(demo_dir, "demo.json"))
    finally:
        # what a failed test left running
        subprocess.run(stop, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=rrharness.scaled(60))
