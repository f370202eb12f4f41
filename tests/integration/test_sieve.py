"""The Sieve module (sieve_readreceipt, extension vnd.readreceipt): rules
at delivery that only tighten the policy, and the readreceipt_requested
test. Scripts run in LMTP (the harness loads sieve there and enables the
extension); sievec and sieve-test check compile-time validation.
"""

import os
import re
import socket
import time
import pathlib
import shutil
import subprocess
import tempfile

import pytest

import rrharness
from rrharness import (MAIL_USER, SIEVE_MODULE_FILE, fetch_body, scaled,
                       wait_until)

BOSS = "boss@example.com"
AUTO = {"readreceipt_mode": "internal", "readreceipt_prompt": "no"}
SIEVEC = "/usr/bin/sievec"
SIEVE_TEST = "/usr/bin/sieve-test"

# the reasons that say a message is not eligible at all (SPEC §3):
# readreceipt_requested is false exactly for these (and for no request)
INELIGIBLE = {"already_sent", "report", "auto_submitted", "mailing_list",
              "not_addressed_to_user", "own_message", "invalid_request"}


@pytest.fixture(autouse=True)
def sieve_module(dovecot):
    if not dovecot.sieve_module:
        pytest.skip("%s is not built" % SIEVE_MODULE_FILE)


# ---------------------------------------------------------------- helpers

def with_script(user, script):
    """Make script the user's active Sieve script (~/.dovecot.sieve)."""
    user.dovecot.write_user_file(user.name, ".dovecot.sieve", script)
    return user


def decisions_for(user, message_id):
    return [d for d in user.decision_lines()
            if d.get("message_id") == message_id]


def wait_decisions(user, message_id, count, timeout=5):
    wait_until(lambda: len(decisions_for(user, message_id)) >= count,
               scaled(timeout),
               what="%d decisions for %s" % (count, message_id))
    return decisions_for(user, message_id)


def open_seq(user, seq="1", mailbox="INBOX"):
    conn = user.imap(mailbox)
    try:
        fetch_body(conn, seq)
    finally:
        conn.logout()


def fields(d, *names):
    return tuple(d[n] for n in names)


def queue_user(new_user, dovecot, **settings):
    """A user with an attribute dict, so that receipts can wait."""
    user = new_user(**settings)
    path = os.path.join(dovecot.home(user.name), "dovecot-attributes")
    dovecot.add_user(user.name, user.password,
                     **rrharness.attribute_dict_settings(path), **settings)
    return user


# ---------------------------------------------------------------- never

def test_never_marks_at_delivery_and_no_receipt_on_open(new_user):
    user = with_script(new_user(**AUTO), """\
require "vnd.readreceipt";
if address :is "from" "boss@example.com" { readreceipt "never"; }
""")
    mid = user.deliver(frm=BOSS)
    # the keyword is there before anyone opened the message
    assert "$MDNSent" in user.flags()
    assert "$MDNAsk" not in user.flags()
    d = wait_decisions(user, mid, 1)[0]
    assert fields(d, "decision", "reason", "trigger", "mode", "mailbox",
                  "uid", "recipient") == \
        ("suppressed", "sieve", "delivery", "internal", "INBOX", "",
         BOSS), d
    assert d["_service"] == "lmtp"

    open_seq(user)
    d = wait_decisions(user, mid, 2)[1]
    assert fields(d, "decision", "reason", "trigger") == \
        ("suppressed", "already_sent", "open"), d
    assert user.receipts() == []


def test_never_for_another_sender_changes_nothing(new_user):
    user = with_script(new_user(**AUTO), """\
require "vnd.readreceipt";
if address :is "from" "someone.else@example.com" { readreceipt "never"; }
""")
    mid = user.deliver(frm=BOSS)
    assert "$MDNSent" not in user.flags()
    open_seq(user)
    d = wait_decisions(user, mid, 1)[0]
    assert fields(d, "decision", "reason", "trigger") == \
        ("sent", "automatic", "open"), d
    assert len(user.receipts()) == 1


def test_no_script_sends_automatically_as_before(new_user):
    user = new_user(**AUTO)
    mid = user.deliver(frm=BOSS)
    open_seq(user)
    d = wait_decisions(user, mid, 1)[0]
    assert fields(d, "decision", "reason") == ("sent", "automatic"), d
    assert len(user.receipts()) == 1


def test_never_without_request_marks_but_logs_nothing(new_user):
    user = with_script(new_user(**AUTO), """\
require "vnd.readreceipt";
readreceipt "never";
""")
    mid = user.deliver(dnt=None, subject="no request")
    assert "$MDNSent" in user.flags()
    # a message that asked for nothing is not "considered": no event
    marker = user.deliver(subject="marker")
    wait_decisions(user, marker, 1)
    assert decisions_for(user, mid) == []


def test_never_applies_to_fileinto_and_wins_over_ask(new_user):
    user = with_script(new_user(**AUTO), """\
require ["vnd.readreceipt", "fileinto", "mailbox"];
fileinto :create "Boss";
readreceipt "ask";
readreceipt "never";
""")
    mid = user.deliver(frm=BOSS)
    flags = user.flags(mailbox="Boss")
    assert "$MDNSent" in flags and "$MDNAsk" not in flags
    d = wait_decisions(user, mid, 1)[0]
    assert fields(d, "decision", "reason", "mailbox") == \
        ("suppressed", "sieve", "Boss"), d
    open_seq(user, mailbox="Boss")
    d = wait_decisions(user, mid, 2)[1]
    assert d["reason"] == "already_sent", d
    assert user.receipts() == []


# ---------------------------------------------------------------- ask

def test_ask_queues_where_the_policy_would_send(new_user, dovecot):
    user = queue_user(new_user, dovecot, **AUTO)
    with_script(user, 'require "vnd.readreceipt";\nreadreceipt "ask";\n')
    mid = user.deliver(frm=BOSS)
    flags = user.flags()
    assert "$MDNAsk" in flags and "$MDNSent" not in flags
    open_seq(user)
    d = wait_decisions(user, mid, 1)[0]
    # readreceipt_unprompted = defer (the default): it waits for a client
    # that can ask
    assert fields(d, "decision", "reason", "trigger") == \
        ("queued", "unprompted", "open"), d
    assert user.receipts() == []


@pytest.mark.parametrize("unprompted,decision", [
    ("ignore", "ignored"),
    # $MDNAsk asks for consent as readreceipt_prompt = yes does, not for
    # RFC 8098 §2.1's forced consent: the admin's "send" still applies
    ("send", "sent"),
])
def test_ask_follows_readreceipt_unprompted(new_user, unprompted, decision):
    user = with_script(new_user(readreceipt_unprompted=unprompted, **AUTO),
                       'require "vnd.readreceipt";\nreadreceipt "ask";\n')
    mid = user.deliver(frm=BOSS)
    open_seq(user)
    d = wait_decisions(user, mid, 1)[0]
    assert d["decision"] == decision, d
    assert len(user.receipts()) == (1 if decision == "sent" else 0)


def test_ask_without_attribute_dict_fails_exactly(new_user):
    user = with_script(new_user(**AUTO),
                       'require "vnd.readreceipt";\nreadreceipt "ask";\n')
    mid = user.deliver(frm=BOSS)
    open_seq(user)
    d = wait_decisions(user, mid, 1)[0]
    assert fields(d, "decision", "reason") == \
        ("failed", "no_attribute_dict"), d
    assert user.receipts() == []


def test_ask_unless_dmarc_passed(new_user, dovecot):
    user = queue_user(new_user, dovecot, **AUTO)
    with_script(user, """\
require "vnd.readreceipt";
if not header :contains "Authentication-Results" "dmarc=pass" {
  readreceipt "ask";
}
""")
    passed = user.deliver(frm=BOSS, extra_headers=[
        ("Authentication-Results", "mx.example.com; dmarc=pass")])
    other = user.deliver(frm=BOSS, subject="unauthenticated")
    flags = user.all_flags()
    assert "$MDNAsk" not in flags[1] and "$MDNAsk" in flags[2], flags
    open_seq(user, "1")
    open_seq(user, "2")
    assert wait_decisions(user, passed, 1)[0]["decision"] == "sent"
    assert wait_decisions(user, other, 1)[0]["decision"] == "queued"


# ---------------------------------------------------------------- global

def test_sieve_before_rule_applies_to_the_personal_keep(new_user, dovecot):
    user = new_user(**AUTO)
    before = dovecot.write_user_file(user.name, "before.sieve",
                                     'require "vnd.readreceipt";\n'
                                     'readreceipt "never";\n')
    dovecot.add_user(user.name, user.password,
                     **rrharness.sieve_before_settings(before), **AUTO)
    # the personal script does not know the extension at all
    with_script(user, 'require "fileinto";\nkeep;\n')
    mid = user.deliver(frm=BOSS)
    assert "$MDNSent" in user.flags()
    d = wait_decisions(user, mid, 1)[0]
    assert fields(d, "reason", "trigger") == ("sieve", "delivery"), d


# ---------------------------------------------------------------- requested

def requested_cases(user):
    """(name, raw message, expected readreceipt_requested)"""
    me = user.email
    return [
        ("plain", user.message(frm=BOSS), True),
        ("no_request", user.message(frm=BOSS, dnt=None), False),
        ("list", user.message(frm=BOSS, extra_headers=[
            ("List-Id", "<team.lists.example.com>")]), False),
        ("bulk", user.message(frm=BOSS, extra_headers=[
            ("Precedence", "bulk")]), False),
        ("auto", user.message(frm=BOSS, extra_headers=[
            ("Auto-Submitted", "auto-generated")]), False),
        ("auto_no", user.message(frm=BOSS, extra_headers=[
            ("Auto-Submitted", "no")]), True),
        ("not_to_user", user.message(frm=BOSS, to="team@example.com"),
         False),
        ("cc_user", user.message(frm=BOSS, to="team@example.com",
                                 cc=me), True),
        ("own", user.message(frm=me), False),
        ("report", user.message(
            frm=BOSS, content_type="multipart/report; "
            "report-type=disposition-notification; boundary=x",
            body="--x\nContent-Type: text/plain\n\nx\n--x--\n"), False),
        ("invalid", user.message(frm=BOSS, dnt="not an address"), False),
        ("external", user.message(frm="someone@elsewhere.example"), True),
    ]


@pytest.mark.parametrize("mode", ["internal", "disabled"])
def test_requested_matches_what_the_module_considers(new_user, mode):
    user = with_script(new_user(readreceipt_mode=mode,
                                readreceipt_prompt="no",
                                readreceipt_unprompted="ignore"), """\
require ["vnd.readreceipt", "imap4flags"];
if readreceipt_requested { addflag "$Requested"; }
""")
    cases = requested_cases(user)
    mids = []
    for _name, raw, _expected in cases:
        user.deliver(raw)
        mids.append(user.dovecot.message_ids and
                    __import__("rrharness").message_id_of(raw))
    flags = user.all_flags()
    got = {name: "$Requested" in flags[i + 1]
           for i, (name, _raw, _exp) in enumerate(cases)}
    assert got == {name: exp for name, _raw, exp in cases}

    # Opening each one: the module considers (a decision other than an
    # eligibility suppression) exactly the messages the test matched.
    for i in range(len(cases)):
        open_seq(user, str(i + 1))
    marker = user.deliver(subject="marker")
    open_seq(user, str(len(cases) + 1))
    wait_decisions(user, marker, 1)
    for (name, _raw, expected), mid in zip(cases, mids):
        ds = decisions_for(user, mid)
        considered = any(d["reason"] not in INELIGIBLE for d in ds)
        assert considered == expected, (name, ds)
    if mode == "disabled":
        assert user.receipts() == []


# ---------------------------------------------------------------- tools

@pytest.fixture
def tool_dir(dovecot):
    """A folder the mail user can read and write (pytest's tool_dir is
    private to root)."""
    path = tempfile.mkdtemp(prefix="sieve-tool-", dir=dovecot.workdir)
    os.chown(path, dovecot.mail_pw.pw_uid, dovecot.mail_pw.pw_gid)
    yield pathlib.Path(path)
    shutil.rmtree(path, ignore_errors=True)


def run_tool(dovecot, args, script, tool_dir, mail=None):
    """Run a Sieve tool as the mail user with the module under test
    loaded by -P, with the system configuration."""
    path = tool_dir / "script.sieve"
    path.write_text(script)
    os.chmod(path, 0o644)
    plugin = os.path.join(dovecot.module_dir, "sieve_readreceipt")
    cmd = ["runuser", "-u", MAIL_USER, "--", args[0],
           "-x", "+vnd.readreceipt", "-P", plugin] + args[1:] + [str(path)]
    if mail is not None:
        # sieve-test <script> <mail>
        mail_path = tool_dir / "mail.eml"
        mail_path.write_text(mail)
        os.chmod(mail_path, 0o644)
        cmd.append(str(mail_path))
    return subprocess.run(cmd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=scaled(30),
                          cwd=str(tool_dir))


VALID_SCRIPTS = [
    'require "vnd.readreceipt"; readreceipt "never";',
    'require "vnd.readreceipt"; readreceipt "ask";',
    'require "vnd.readreceipt";\n'
    'if readreceipt_requested { readreceipt "ask"; }',
    'require ["vnd.readreceipt", "variables"];\n'
    'if not readreceipt_requested { stop; }',
]


@pytest.mark.parametrize("script", VALID_SCRIPTS)
def test_sievec_compiles_valid_scripts(dovecot, tool_dir, script):
    res = run_tool(dovecot, [SIEVEC], script, tool_dir)
    assert res.returncode == 0, res.stdout
    assert (tool_dir / "script.svbin").exists()


INVALID_SCRIPTS = [
    ('require "vnd.readreceipt"; readreceipt "sometimes";',
     'unknown rule "sometimes" (use "never" or "ask")'),
    ('require "vnd.readreceipt"; readreceipt "Never";',
     'unknown rule "Never"'),
    ('require ["vnd.readreceipt", "variables"]; set "r" "never";\n'
     'readreceipt "${r}";',
     'the rule must be a constant'),
    ('require "vnd.readreceipt"; readreceipt;',
     'requires 1 positional argument'),
    ('require "vnd.readreceipt"; readreceipt ["never", "ask"];',
     'expects a string as argument 1 (rule), but a string list was found'),
    ('require "vnd.readreceipt"; readreceipt 1;',
     'expects a string as argument 1 (rule), but a number was found'),
    ('require "vnd.readreceipt"; readreceipt "never" "ask";',
     'requires 1 positional argument'),
    ('require "vnd.readreceipt"; if readreceipt_requested "x" { stop; }',
     'requires 0 positional argument'),
    ('readreceipt "never";', "unknown command 'readreceipt'"),
]


@pytest.mark.parametrize("script,message", INVALID_SCRIPTS)
def test_sievec_rejects_invalid_use(dovecot, tool_dir, script, message):
    res = run_tool(dovecot, [SIEVEC], script, tool_dir)
    assert res.returncode != 0, res.stdout
    assert message in res.stdout, res.stdout
    assert not (tool_dir / "script.svbin").exists()


def test_sievec_without_the_extension_enabled(dovecot, tool_dir):
    path = tool_dir / "script.sieve"
    path.write_text('require "vnd.readreceipt"; readreceipt "never";')
    res = subprocess.run(["runuser", "-u", MAIL_USER, "--", SIEVEC,
                          str(path)], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True)
    assert res.returncode != 0
    # Pigeonhole quotes it `so' (0.5) or 'so' (2.4)
    assert re.search(r"unknown Sieve capability [`']vnd\.readreceipt'",
                     res.stdout), res.stdout


MAIL = ("From: %s\nTo: user@example.com\nSubject: x\n"
        "Disposition-Notification-To: %s\n\nbody\n" % (BOSS, BOSS))


@pytest.mark.parametrize("rule,keyword", [("never", "$MDNSent"),
                                          ("ask", "$MDNAsk")])
def test_sieve_test_shows_the_keyword(dovecot, tool_dir, rule, keyword):
    res = run_tool(dovecot, [SIEVE_TEST],
                   'require ["vnd.readreceipt", "fileinto"];\n'
                   'fileinto "Receipts";\nreadreceipt "%s";\n' % rule,
                   tool_dir, mail=MAIL)
    assert res.returncode == 0, res.stdout
    assert "store message in folder: Receipts" in res.stdout
    assert 'readreceipt "%s": add keyword %s' % (rule, keyword) \
        in res.stdout, res.stdout


def test_sieve_test_requested_without_the_storage_module(dovecot, tool_dir):
    """The storage module holds the policy: without it the test is false
    and says why, rather than the module failing to load."""
    res = run_tool(dovecot, [SIEVE_TEST],
                   'require ["vnd.readreceipt", "fileinto"];\n'
                   'if readreceipt_requested { fileinto "Receipts"; }\n',
                   tool_dir, mail=MAIL)
    assert res.returncode == 0, res.stdout
    assert "readreceipt module is not loaded" in res.stdout
    assert "store message in folder: INBOX" in res.stdout
    assert "Receipts" not in res.stdout


# ---------------------------------------------------------------- ManageSieve

MANAGESIEVE = "/usr/lib/dovecot/managesieve"


@pytest.mark.skipif(not os.path.exists(MANAGESIEVE),
                    reason="dovecot-managesieved is not installed")
def test_managesieve_capability_lists_the_extension(workdir, sink):
    """A client uploading scripts over ManageSieve sees vnd.readreceipt in
    the SIEVE capability once the plugin and the extension are enabled."""
    from conftest import running_dovecot

    port = rrharness.free_port()
    extra = ("protocols = imap pop3 lmtp sieve\n" +
             rrharness.inet_listener_config("managesieve-login", "sieve",
                                            port))
    with running_dovecot(workdir, "dovecot-managesieve", sink,
                         extra_config=extra):
        def greeting():
            try:
                with socket.create_connection(("127.0.0.1", port),
                                              timeout=scaled(10)) as sock:
                    data = b""
                    while b"\r\nOK" not in data and \
                            not data.startswith(b"OK"):
                        chunk = sock.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    return data.decode()
            except OSError:
                return None
        text = None
        deadline = time.time() + scaled(10)
        while text is None and time.time() < deadline:
            text = greeting()
            if text is None:
                time.sleep(0.1)
        assert text is not None, "no ManageSieve greeting"
        sieve_lines = [l for l in text.splitlines()
                       if l.upper().startswith('"SIEVE"')]
        assert len(sieve_lines) == 1, text
        extensions = sieve_lines[0].split('"')[3].split()
        assert "vnd.readreceipt" in extensions, sieve_lines[0]
        assert "fileinto" in extensions
