"""The imap module (imap_readreceipt): the XREADRECEIPT capability and
ENABLE, the client's IMAP ID name against readreceipt_prompt_clients, and
the command that sets \\Seen.

A session whose client shows its own receipt prompt (it ENABLEd
XREADRECEIPT, or its ID name matches readreceipt_prompt_clients) never
triggers an automatic receipt (SPEC §4 step 4): the receipt is for the
client to ask about. Each test's user would otherwise get an automatic
receipt (mode internal, prompt no), and a control session shows that it
does.
"""

import imaplib
import os
import socket

import pytest

import rrharness
from conftest import running_dovecot
from rrharness import (fetch_body, fetch_flags, imap_check, scaled,
                       strip_private)

CAPABILITY = "XREADRECEIPT"
AUTO = {"readreceipt_mode": "internal", "readreceipt_prompt": "no"}
ROUNDCUBE_ID = '("name" "Roundcube" "version" "1.6.5" "vendor" "Roundcube")'


# ---------------------------------------------------------------- helpers

def login(user):
    """A logged-in connection and the capabilities that LOGIN's response
    announced (in its tagged OK or untagged), uppercased."""
    conn = imaplib.IMAP4("127.0.0.1", user.dovecot.imap_port,
                         timeout=scaled(10))
    # imaplib files both [CAPABILITY ...] codes and untagged CAPABILITY
    # under one key: drop what the greeting announced before login
    conn.untagged_responses.pop("CAPABILITY", None)
    typ, data = conn.login(user.name, user.password)
    assert typ == "OK", data
    announced = conn.untagged_responses.pop("CAPABILITY", [])
    assert announced, "LOGIN announced no capabilities"
    return conn, set(b" ".join(announced).decode().upper().split())


def capabilities(conn):
    """The capabilities the CAPABILITY command lists, uppercased."""
    data = imap_check(conn.capability())
    return set(data[-1].decode().upper().split())


def enable(conn, *features):
    """ENABLE features; returns what the untagged ENABLED lists."""
    imap_check(conn.xatom("ENABLE", *features))
    _, data = conn.response("ENABLED")
    return set(b" ".join(d for d in data if d).decode().upper().split())


def send_id(conn, params):
    """ID with params as written on the wire, e.g. '("name" "mutt")'."""
    imap_check(conn.xatom("ID", params))
    _, data = conn.response("ID")
    assert data != [None], "no untagged ID reply"


def decision_of(user, message_id):
    """The decision line and event for message_id (after waiting for
    both); exactly one of each."""
    lines, events = user.wait_decision(message_id)
    lines = [x for x in lines if x["message_id"] == message_id]
    events = [strip_private(e) for e in events
              if e["message_id"] == message_id]
    assert len(lines) == 1, lines
    assert len(events) == 1, events
    return lines[0], events[0]


def assert_sent(user, message_id, seq="1"):
    line, event = decision_of(user, message_id)
    for d in (line, event):
        assert (d["decision"], d["reason"], d["trigger"]) == \
            ("sent", "automatic", "open"), d
    receipts = [r for r in user.receipts()
                if r.msg["In-Reply-To"].strip() == message_id]
    assert len(receipts) == 1, user.receipts()
    assert {"\\Seen", "$MDNSent"} <= user.flags(seq)


def assert_not_sent_automatically(user, message_id, seq="1"):
    """The open was considered (a decision with trigger open), but no
    receipt went out and the message stays without $MDNSent, so the client
    can still offer one."""
    line, event = decision_of(user, message_id)
    for d in (line, event):
        assert d["trigger"] == "open", d
        # it would be queued for the client's prompt; these users have no
        # attribute dict (test_queue.py covers the queued entry)
        assert (d["decision"], d["reason"]) == \
            ("failed", "no_attribute_dict"), d
    assert [r for r in user.receipts()
            if r.msg["In-Reply-To"].strip() == message_id] == []
    flags = user.flags(seq)
    assert "\\Seen" in flags
    assert "$MDNSent" not in flags


def open_in_session(user, setup, seq="1"):
    """Log in, run setup(conn), SELECT INBOX, FETCH BODY[] of seq, log
    out."""
    conn = user.imap(mailbox=None)
    try:
        setup(conn)
        imap_check(conn.select("INBOX"))
        fetch_body(conn, seq)
    finally:
        conn.logout()


class RawImap:
    """A line-level IMAP session, for what imaplib cannot send (a literal
    inside a list)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=scaled(10))
        self.file = self.sock.makefile("rb")
        self.tag = 0
        self.readline()

    def readline(self):
        line = self.file.readline()
        if not line:
            raise EOFError("connection closed")
        return line.decode("utf-8", "replace").rstrip("\r\n")

    def send(self, data):
        self.sock.sendall(data.encode())

    def command(self, text):
        """Send 'TAG text'; return (untagged lines, tagged line)."""
        self.tag += 1
        tag = "t%d" % self.tag
        self.send("%s %s\r\n" % (tag, text))
        return self.wait(tag)

    def wait(self, tag):
        untagged = []
        while True:
            line = self.readline()
            if line.startswith(tag + " "):
                return untagged, line
            untagged.append(line)

    def close(self):
        try:
            self.command("LOGOUT")
        except (OSError, EOFError):
            pass
        self.file.close()
        self.sock.close()


# ---------------------------------------------------------------- capability

def test_capability_for_enabled_user(new_user):
    user = new_user(**AUTO)
    conn, announced = login(user)
    try:
        # what Roundcube reads: the capabilities LOGIN announced
        assert CAPABILITY in announced
        assert CAPABILITY in capabilities(conn)
    finally:
        conn.logout()


@pytest.mark.parametrize("settings", [
    {"readreceipt_mode": "disabled"},
    # invalid settings disable receipts for the user
    {"readreceipt_mode": "internal",
     "readreceipt_allow": "not-an-address"},
], ids=["mode-disabled", "invalid-settings"])
def test_no_capability_where_receipts_are_disabled(new_user, settings):
    user = new_user(**settings)
    conn, announced = login(user)
    try:
        assert CAPABILITY not in announced
        assert "IMAP4REV1" in announced
        caps = capabilities(conn)
        assert CAPABILITY not in caps
        # the rest of the session is unchanged
        assert "IMAP4REV1" in caps
    finally:
        conn.logout()


def test_mode_any_has_capability(new_user):
    user = new_user(readreceipt_mode="any")
    conn, _ = login(user)
    try:
        assert CAPABILITY in capabilities(conn)
    finally:
        conn.logout()


def test_enable_answers_enabled(new_user):
    user = new_user(**AUTO)
    conn = user.imap(mailbox=None)
    try:
        assert enable(conn, CAPABILITY) == {CAPABILITY}
        # case-insensitive, and a second ENABLE is harmless
        assert enable(conn, CAPABILITY.lower()) == {CAPABILITY}
    finally:
        conn.logout()


# ---------------------------------------------------------------- prompting

def test_enable_means_no_automatic_receipt(new_user):
    user = new_user(**AUTO)
    mid = user.deliver()
    open_in_session(user, lambda conn: enable(conn, CAPABILITY))
    assert_not_sent_automatically(user, mid)
    # the same user without ENABLE gets the automatic receipt
    marker = user.marker()
    assert_sent(user, marker, seq="2")


def test_roundcube_id_means_no_automatic_receipt(new_user):
    user = new_user(**AUTO)
    mid = user.deliver()
    open_in_session(user, lambda conn: send_id(conn, ROUNDCUBE_ID))
    assert_not_sent_automatically(user, mid)


def test_roundcube_opens_with_peek_and_store(new_user):
    """Roundcube's own sequence: ID, BODY.PEEK, then UID STORE
    +FLAGS.SILENT (\\Seen)."""
    user = new_user(**AUTO)
    mid = user.deliver()
    conn = user.imap(mailbox=None)
    try:
        send_id(conn, ROUNDCUBE_ID)
        imap_check(conn.select("INBOX"))
        fetch_body(conn, "1", peek=True)
        imap_check(conn.uid("STORE", "1", "+FLAGS.SILENT", "(\\Seen)"))
    finally:
        conn.logout()
    assert_not_sent_automatically(user, mid)


def test_other_client_id_still_gets_automatic_receipt(new_user):
    user = new_user(**AUTO)
    mid = user.deliver()
    open_in_session(user, lambda conn: send_id(
        conn, '("name" "mutt" "version" "2.2.9")'))
    assert_sent(user, mid)


@pytest.mark.parametrize("params", [
    "NIL",
    '("name" NIL "version" "1.0")',
    '("version" "1.6" "vendor" "Roundcube")',
    '("name")',
    '("name" "Roundcube Webmail X" "name" "mutt")',
], ids=["nil", "name-nil", "no-name", "odd-list", "first-name-counts"])
def test_id_forms(new_user, params):
    """Only the value of the "name" field counts; the first one when a
    client repeats it."""
    user = new_user(**AUTO)
    mid = user.deliver()
    open_in_session(user, lambda conn: send_id(conn, params))
    if params.startswith('("name" "Roundcube'):
        assert_not_sent_automatically(user, mid)
    else:
        assert_sent(user, mid)


def test_id_name_in_a_literal(new_user):
    """The name can arrive as a literal, which makes ID wait for input
    before it completes."""
    user = new_user(**AUTO)
    mid = user.deliver()
    conn = RawImap(user.dovecot.imap_port)
    try:
        _, tagged = conn.command('LOGIN "%s" "%s"' % (user.name,
                                                     user.password))
        assert " OK " in tagged, tagged
        conn.tag += 1
        tag = "t%d" % conn.tag
        conn.send('%s ID ("version" "1.6" "name" {9}\r\n' % tag)
        assert conn.readline().startswith("+ "), "no continuation"
        conn.send('Roundcube)\r\n')
        untagged, tagged = conn.wait(tag)
        assert tagged.startswith(tag + " OK"), tagged
        assert any(x.startswith("* ID ") for x in untagged), untagged
        _, tagged = conn.command("SELECT INBOX")
        assert " OK " in tagged, tagged
        _, tagged = conn.command("FETCH 1 (BODY[])")
        assert " OK " in tagged, tagged
    finally:
        conn.close()
    assert_not_sent_automatically(user, mid)


def test_prompt_clients_per_user(new_user):
    """A userdb readreceipt_prompt_clients replaces the default list."""
    user = new_user(readreceipt_prompt_clients="mutt*,K-9?Mail", **AUTO)
    first = user.deliver(subject="first")
    open_in_session(user, lambda conn: send_id(conn, '("name" "Mutt")'))
    assert_not_sent_automatically(user, first)
    second = user.deliver(subject="second")
    open_in_session(user, lambda conn: send_id(conn, ROUNDCUBE_ID),
                    seq="2")
    assert_sent(user, second, seq="2")


def test_empty_prompt_clients_trusts_only_enable(new_user):
    user = new_user(readreceipt_prompt_clients="", **AUTO)
    first = user.deliver(subject="first")
    open_in_session(user, lambda conn: send_id(conn, ROUNDCUBE_ID))
    assert_sent(user, first)
    second = user.deliver(subject="second")
    open_in_session(user, lambda conn: enable(conn, CAPABILITY), seq="2")
    assert_not_sent_automatically(user, second, seq="2")


# ---------------------------------------------------------------- commands

def test_store_and_fetch_are_opens(new_user):
    """With the module naming the command, STORE, UID STORE and a FETCH
    that sets \\Seen still count as opening the message."""
    user = new_user(**AUTO)
    mids = [user.deliver(subject="report %d" % i) for i in range(3)]
    conn = user.imap()
    try:
        imap_check(conn.store("1", "+FLAGS", "(\\Seen)"))
        imap_check(conn.uid("STORE", "2", "+FLAGS.SILENT", "(\\Seen)"))
        imap_check(conn.uid("FETCH", "3", "(BINARY[])"))
    finally:
        conn.logout()
    for seq, mid in enumerate(mids, 1):
        assert_sent(user, mid, seq=str(seq))


def copy_to_archive(user):
    """Deliver a message that asks for an automatic receipt, COPY it into
    Archive, then open a marker in the same session. Returns the flags of
    the copy and the marker's Message-ID."""
    user.deliver()
    conn = user.imap()
    try:
        imap_check(conn.create("Archive"))
        imap_check(conn.copy("1", "Archive"))
        imap_check(conn.select("Archive", readonly=True))
        flags = fetch_flags(conn, "1")
        # a later open in the same session is still an open
        marker = user.marker(conn)
    finally:
        conn.logout()
    return flags, marker


def assert_only_decision(user, marker):
    """The marker's decision and receipt are the user's only ones."""
    assert [d["message_id"] for d in user.decision_lines()] == [marker]
    assert [e["message_id"] for e in user.decision_events()] == [marker]
    assert [r.msg["In-Reply-To"].strip() for r in user.receipts()] == \
        [marker]


def test_copy_of_an_unseen_message_is_not_an_open(new_user):
    user = new_user(**AUTO)
    flags, marker = copy_to_archive(user)
    assert "\\Seen" not in flags
    assert_only_decision(user, marker)


# ---------------------------------------------------------------- imapsieve

SEEN_SCRIPT = 'require "imap4flags";\naddflag "\\\\Seen";\n'


@pytest.fixture(scope="module")
def imapsieve_dovecot(workdir, sink):
    """A second Dovecot where an administrator's imapsieve script marks
    every message copied or appended into Archive as \\Seen: a \\Seen
    change made by COPY and APPEND through update_flags."""
    pw = rrharness.ensure_mail_user()
    script_dir = os.path.join(workdir, "imapsieve-scripts")
    os.makedirs(script_dir, exist_ok=True)
    script = os.path.join(script_dir, "seen.sieve")
    with open(script, "w") as f:
        f.write(SEEN_SCRIPT)
    # the compiled script is saved next to it by the mail processes
    for path in (script_dir, script):
        os.chown(path, pw.pw_uid, pw.pw_gid)
    settings = {
        "sieve_plugins": "sieve_imapsieve",
        "imapsieve_mailbox1_name": "Archive",
        "imapsieve_mailbox1_causes": "COPY APPEND",
        "imapsieve_mailbox1_before": "file:" + script,
    }
    with running_dovecot(workdir, "dovecot-imapsieve", sink,
                         plugin_settings=settings,
                         imap_plugins=("imap_sieve",)) as dc:
        yield dc


@pytest.fixture
def sieve_user(request, imapsieve_dovecot, sink):
    offset = imapsieve_dovecot.log_size()
    # test_imapsieve_seen_on_copy_... -> sieve-seen-on-copy-...
    slug = request.node.name.replace("test_imapsieve_", "")
    name = "sieve-%s@example.com" % slug.replace("_", "-")[:32]
    yield rrharness.MailUser(imapsieve_dovecot, sink, name, **AUTO)
    problems = imapsieve_dovecot.problems(offset)
    assert not problems, "Dovecot problems during the test:\n" + \
        "\n".join(map(str, problems))


def test_imapsieve_seen_on_copy_is_not_an_open(sieve_user):
    flags, marker = copy_to_archive(sieve_user)
    # the script ran: COPY itself made the copy \Seen
    assert "\\Seen" in flags
    assert "$MDNSent" not in flags
    assert_only_decision(sieve_user, marker)


def test_imapsieve_seen_on_append_is_not_an_open(sieve_user):
    user = sieve_user
    raw = user.message(return_path="boss@example.com")
    conn = user.imap(mailbox=None)
    try:
        imap_check(conn.create("Archive"))
        user.append(conn, raw, mailbox="Archive")
        imap_check(conn.select("Archive", readonly=True))
        assert "\\Seen" in fetch_flags(conn, "1")
        marker = user.marker(conn)
    finally:
        conn.logout()
    assert_only_decision(user, marker)
