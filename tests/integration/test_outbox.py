"""The outbox (SPEC §12): a receipt is recorded with $MDNSent in the
transaction that caused it, leaves after the command was answered, and is
sent exactly once, also across crashes, relay outages and flag changes.

What each test looks at is what a user or an administrator sees: receipts
at an SMTP sink (their envelope, header and report fields), flags as a
fresh IMAP session reports them, METADATA entries, `doveadm readreceipt
list|flush` output, and readreceipt_decision log lines and events.

A receipt is never expected synchronously: tests wait for it at the sink.
Sinks whose reply to DATA is delayed (SmtpSink data_delay) show what
happens while a receipt is on its way; kill_session() kills the process
that serves a connection by its pid.
"""

import calendar
import email
import email.policy
import json
import os
import re
import signal
import stat
import subprocess
import time

import pytest

import rrharness
from conftest import running_dovecot
from rrharness import (PENDING_PREFIX, SmtpSink, attribute_dict_settings,
                       disposition_fields, fetch_body, fetch_flags,
                       getmetadata, has_attribute_dict, imap_check,
                       normalize_ws, scaled, setmetadata, strip_private,
                       wait_until)

BOSS = "boss@example.com"
AUTO = {"readreceipt_mode": "internal", "readreceipt_prompt": "no"}
PROMPT = {"readreceipt_mode": "internal", "readreceipt_prompt": "yes",
          "readreceipt_unprompted": "defer"}
LIST_COLUMNS = ["mailbox", "uid", "reason", "since", "to", "subject",
                "message_id"]
# what doveadm readreceipt list shows for a receipt that is owed
OWED_REASONS = ("owed", "sending", "retry")
ISO_UTC_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
MSG_ID_RE = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")
AUTOMATIC = "automatic-action/MDN-sent-automatically; displayed"
MANUAL = "manual-action/MDN-sent-manually; displayed"
# a claim by a process that died is taken over this long after the claim
# (readreceipt_submission_timeout + 5 s)
CLAIM_GRACE = 5


# ---------------------------------------------------------------- fixtures

_sink_counter = iter(range(1, 1000000))


@pytest.fixture
def make_sink(workdir):
    """make_sink(mode="accept", data_delay=0, tls=False, ...) -> a started
    SmtpSink of its own, stopped after the test."""
    sinks = []

    def make(mode="accept", **options):
        sink = SmtpSink(os.path.join(workdir, "sink-outbox-%d-%s" % (
            next(_sink_counter), mode)), mode=mode, **options).start()
        sinks.append(sink)
        return sink
    yield make
    for sink in sinks:
        sink.stop()


@pytest.fixture(scope="module")
def tempfail_sink(workdir):
    """Answers every RCPT TO with 451 4.3.0."""
    s = SmtpSink(os.path.join(workdir, "sink-tempfail"),
                 mode="tempfail").start()
    yield s
    s.stop()


# ---------------------------------------------------------------- helpers

def dict_user(new_user, dovecot, prefix="alice", **settings):
    """A user with an attribute dict (for pending prompts); the dict file
    is users' home/dovecot-attributes."""
    user = new_user(prefix, **settings)
    user.update_settings(**attribute_dict_settings(
        "%s/dovecot-attributes" % dovecot.home(user.name)))
    return user


def dict_path(user):
    return os.path.join(user.dovecot.home(user.name), "dovecot-attributes")


def relay(port_or_sink):
    if isinstance(port_or_sink, int):
        return "127.0.0.1:%d" % port_or_sink
    return port_or_sink.address


def uid_of(conn, message_id):
    uids = imap_check(conn.uid("SEARCH", None, "HEADER", "Message-ID",
                               '"%s"' % message_id))[0].split()
    assert len(uids) == 1, uids
    return uids[0].decode()


def timed(func, *args):
    """(func(*args), seconds it took)."""
    start = time.monotonic()
    result = func(*args)
    return result, time.monotonic() - start


def open_timed(conn, uid):
    """UID FETCH uid (BODY[]) on conn: (body, seconds until the reply)."""
    def fetch():
        typ, data = conn.uid("FETCH", uid, "(BODY[])")
        assert typ == "OK", data
        bodies = [p[1] for p in data if isinstance(p, tuple)]
        assert bodies, data
        return bodies[0]
    return timed(fetch)


def decisions_for(user, message_id):
    return [d for d in user.decision_lines()
            if d.get("message_id") == message_id]


def wait_for_decision(user, message_id, decision, reason=None, timeout=5,
                      line=True, uid=None):
    """Wait for a decision line and an exported event for message_id with
    this decision (and reason); return (line, event). line=False: only
    the event (doveadm writes its log lines to its stderr, not to the
    instance's log; the event reaches it through the stats process), and
    the line returned is the event. message_id=None and uid: the decision
    on that UID."""
    def match(d):
        return ((message_id is None or d.get("message_id") == message_id)
                and (uid is None or d.get("uid") == str(uid)) and
                d.get("decision") == decision and
                (reason is None or d.get("reason") == reason))

    def found():
        lines = [d for d in user.decision_lines() if match(d)]
        events = [strip_private(e) for e in user.decision_events()
                  if match(e)]
        if not line and events:
            return events[0], events[0]
        return (lines[0], events[0]) if lines and events else None
    try:
        return wait_until(found, scaled(timeout),
                          what="decision=%s reason=%s for %s"
                          % (decision, reason, message_id))
    except TimeoutError as e:
        raise AssertionError(
            "%s\nthe user's decision lines:\n%s\nevents:\n%s" % (
                e, "\n".join(d["_line"] for d in user.decision_lines()),
                "\n".join(repr(strip_private(d))
                          for d in user.decision_events()))) from None


def open_to_prompt(user, seq, **deliver_args):
    """Deliver a message, open it as message seq in a session that cannot
    prompt, and see its pending entry appear. Returns its Message-ID."""
    mid = user.deliver(**deliver_args)
    conn = user.imap()
    try:
        fetch_body(conn, str(seq))
        wait_for_decision(user, mid, "queued", "unprompted")
        assert getmetadata(conn, PENDING_PREFIX + str(seq)) is not None
    finally:
        conn.logout()
    return mid


def owed(user, *args):
    """doveadm readreceipt list -u user [mailbox] as rows (checks the
    exit code and the columns)."""
    res = user.doveadm("list", *args)
    assert res.rc == 0, res
    assert res.stdout.splitlines()[0].split("\t") == LIST_COLUMNS, res
    return res.rows


def wait_owed(user, n, timeout=5, reasons=OWED_REASONS):
    """Wait until doveadm list shows n rows, all with one of reasons."""
    def check():
        rows = owed(user)
        return rows if len(rows) == n and \
            all(r["reason"] in reasons for r in rows) else None
    try:
        return wait_until(check, scaled(timeout), interval=0.2,
                          what="%d owed receipt(s) with reason in %r"
                          % (n, reasons))
    except TimeoutError as e:
        raise AssertionError("%s: %r" % (e, owed(user))) from None


def flush(user, rc=(0,)):
    """doveadm readreceipt flush -u user: the number it says it sent.
    rc: the exit codes expected."""
    res = user.doveadm("flush")
    assert res.rc in rc, res
    assert len(res.rows) == 1, res
    return int(res.rows[0]["sent"])


def sleep_until(wall_time):
    delay = wall_time - time.time()
    if delay > 0:
        time.sleep(delay)


def disposition(receipt):
    return normalize_ws(disposition_fields(receipt.msg)["disposition"])


def assert_one_receipt(user, message_id, disposition_text=AUTOMATIC,
                       sink=None):
    """Exactly one receipt for message_id has arrived (waits for it)."""
    receipts = user.wait_receipts(1, message_id=message_id, sink=sink)
    # a second one would be on its way right behind the first
    time.sleep(scaled(0.3))
    receipts = user.receipts_for(message_id, sink)
    assert len(receipts) == 1, receipts
    receipt = receipts[0]
    assert receipt.mail_from == ""
    assert receipt.rcpt_tos == [BOSS]
    assert disposition(receipt) == disposition_text
    return receipt


def close_dead(conn):
    """Forget a client connection whose server process was killed."""
    try:
        conn.shutdown()
    except OSError:
        pass


# ---------------------------------------------------------------- 1. after the reply

@pytest.mark.parametrize("how", ["fetch", "store"])
def test_command_answers_before_the_relay_does(doveadm, new_user, make_sink,
                                               how):
    """The opening command is answered while the relay still holds its
    reply to DATA; the message has $MDNSent at once; the receipt is
    listed as being sent meanwhile and arrives afterwards, with its
    decision logged only once the relay accepted it."""
    delay = 2.0
    slow = make_sink(data_delay=delay)
    user = new_user(readreceipt_submission_host=slow.address,
                    readreceipt_submission_timeout=10, **AUTO)
    mid = user.deliver(subject="slow relay")
    conn = user.imap()
    try:
        if how == "fetch":
            body, elapsed = open_timed(conn, "1")
            assert b"Subject: slow relay" in body
        else:
            _, elapsed = timed(imap_check, conn.store("1", "+FLAGS",
                                                      "(\\Seen)"))
        assert elapsed < scaled(delay / 2), \
            "the %s took %.2fs: it waited for the relay" % (how, elapsed)
        # recorded in the same transaction as \Seen
        assert {"\\Seen", "$MDNSent"} <= fetch_flags(conn, "1")

        slow.wait_received(1)
        rows = owed(user)
        assert [(r["mailbox"], r["uid"], r["reason"], r["message_id"])
                for r in rows] == [("INBOX", "1", "sending", mid)], rows
        assert not [d for d in decisions_for(user, mid)
                    if d["decision"] == "sent"], \
            "decision=sent logged before the relay accepted"
        assert slow.messages() == []

        receipt = assert_one_receipt(user, mid, sink=slow)
        assert receipt.time >= slow.received()[0]["time"] + delay - 0.1
        line, event = wait_for_decision(user, mid, "sent")
        assert (line["reason"], line["trigger"]) == ("automatic", "open")
        assert (event["reason"], event["trigger"]) == ("automatic", "open")
        imap_check(conn.noop())
    finally:
        conn.logout()
    assert owed(user) == []
    assert {"\\Seen", "$MDNSent"} <= user.flags()


def test_logout_while_relay_holds_data_reply(doveadm, new_user, make_sink):
    """The user logs out while the relay still holds its reply to DATA:
    the process waits for that reply instead of giving up on it, so the
    relay is handed the receipt once (a relay that has the whole message
    may keep it even when its reply was never read)."""
    delay = 1.5
    slow = make_sink(data_delay=delay)
    user = new_user(readreceipt_submission_host=slow.address,
                    readreceipt_submission_timeout=10, **AUTO)
    mid = user.deliver()
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        slow.wait_received(1)
    finally:
        conn.logout()
    assert_one_receipt(user, mid, sink=slow)
    line, event = wait_for_decision(user, mid, "sent")
    assert (line["reason"], line["trigger"]) == ("automatic", "open")
    assert (event["reason"], event["trigger"]) == ("automatic", "open")
    time.sleep(scaled(delay + 0.5))
    assert len(slow.received()) == 1, slow.received()
    assert slow.dropped() == []
    assert len(slow.messages()) == 1
    assert owed(user) == []
    assert flush(user) == 0


def fetch_then_logout_in_one_write(conn, seq):
    """Send FETCH seq (BODY[]) and LOGOUT to the server in one write, so
    that the session ends before its ioloop runs again: the receipt that
    the FETCH made owed (and claimed) is sent by the session's end."""
    conn.send(("f1 FETCH %s (BODY[])\r\nf2 LOGOUT\r\n" % seq).encode())
    tagged = {}
    while "f2" not in tagged:
        line = conn.readline()
        assert line, "the server closed the connection early: %r" % tagged
        for tag in ("f1", "f2"):
            if line.startswith(tag.encode() + b" "):
                tagged[tag] = line.decode().strip()
    conn.shutdown()
    return tagged


def test_fetch_and_logout_in_one_write(doveadm, new_user, sink):
    """A receipt owed right before the session ends leaves once, with the
    decision's own trigger, and nothing stays owed or claimed."""
    user = new_user(**AUTO)
    mid = user.deliver()
    conn = user.imap()
    tagged = fetch_then_logout_in_one_write(conn, "1")
    assert tagged["f1"].startswith("f1 OK"), tagged
    assert tagged["f2"].startswith("f2 OK"), tagged
    assert_one_receipt(user, mid)
    line, event = wait_for_decision(user, mid, "sent")
    assert (line["reason"], line["trigger"]) == ("automatic", "open")
    assert (event["reason"], event["trigger"]) == ("automatic", "open")
    assert owed(user) == []
    assert flush(user) == 0
    assert "$MDNSent" in user.flags()


def test_fetch_and_logout_in_one_write_relay_down(doveadm, new_user,
                                                  refused_port, sink):
    """The same with the relay refusing connections: the receipt is owed
    as "retry" at once (not left claimed for the timeout), and leaves
    once when the relay is back."""
    user = new_user(readreceipt_submission_host=relay(refused_port),
                    readreceipt_submission_timeout=30, **AUTO)
    mid = user.deliver()
    conn = user.imap()
    tagged = fetch_then_logout_in_one_write(conn, "1")
    assert tagged["f1"].startswith("f1 OK"), tagged
    line, _ = wait_for_decision(user, mid, "queued", "retry")
    assert line["trigger"] == "open", line
    rows = owed(user)
    assert [(r["uid"], r["reason"]) for r in rows] == [("1", "retry")], rows
    relay_comes_back(user, sink, mid)
    assert flush(user) == 0


def test_claim_that_waited_behind_a_slow_relay(doveadm, new_user, make_sink):
    """A receipt claimed by its decision while another is at the relay
    waits its turn; having waited more than a second, it is checked and
    built again under the lock (its own claim, not another process'), and
    leaves once."""
    slow = make_sink(data_delay=1.5)
    user = new_user(readreceipt_submission_host=slow.address,
                    readreceipt_submission_timeout=10, **AUTO)
    mids = [user.deliver(), user.deliver()]
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        fetch_body(conn, "2")
        for mid in mids:
            line, _ = wait_for_decision(user, mid, "sent", timeout=10)
            assert line["trigger"] == "open", line
    finally:
        conn.logout()
    for mid in mids:
        assert_one_receipt(user, mid, sink=slow)
    assert owed(user) == []
    assert flush(user) == 0


def test_claim_released_when_the_relay_fails(doveadm, new_user, hang_sink,
                                             sink):
    """A receipt claimed while another waits for a relay that never
    answers, in a session that ends after that relay failed: it is owed
    again ("retry") at once, not left "sending" until its claim turns
    stale, and leaves once when the relay is back."""
    timeout = 1
    user, mid1, wait_connected = hanging_relay_user(new_user, hang_sink,
                                                    timeout)
    mid2 = user.deliver()
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        fetch_body(conn, "2")
        wait_connected()
        wait_for_decision(user, mid1, "queued", "retry", timeout=timeout + 5)
        # the session waits a minute before its next try: the claim
        # queued behind the failed receipt is owed again meanwhile
        rows = owed(user)
        assert sorted((r["uid"], r["reason"]) for r in rows) == [
            ("1", "retry"), ("2", "retry")], rows
    finally:
        conn.logout()
    rows = owed(user)
    assert sorted((r["uid"], r["reason"]) for r in rows) == [
        ("1", "retry"), ("2", "retry")], rows
    user.update_settings(readreceipt_submission_host=sink.address)
    assert flush(user) == 2
    assert_one_receipt(user, mid1)
    assert_one_receipt(user, mid2)
    assert owed(user) == []


def test_claim_respects_the_hourly_limit(doveadm, new_user, make_sink):
    """readreceipt_max_per_hour = 1: a receipt claimed while the first one
    was still at the relay (when the limit was not reached yet) does not
    leave once the first was counted; it waits as rate_limited."""
    slow = make_sink(data_delay=0.5)
    user = new_user(readreceipt_submission_host=slow.address,
                    readreceipt_max_per_hour=1, **AUTO)
    mids = [user.deliver(), user.deliver()]
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        fetch_body(conn, "2")
        wait_for_decision(user, mids[0], "sent")
        wait_for_decision(user, mids[1], "queued", "rate_limited")
    finally:
        conn.logout()
    assert_one_receipt(user, mids[0], sink=slow)
    time.sleep(scaled(0.5))
    assert user.receipts_for(mids[1], slow) == []
    rows = owed(user)
    assert [(r["uid"], r["reason"]) for r in rows] == [
        ("2", "rate_limited")], rows


def test_a_row_of_claims_within_the_hourly_limit(doveadm, new_user,
                                                 make_sink):
    """Five messages opened while the relay takes a moment for each
    receipt: the decisions claim them, they leave in a row on one
    connection, and the hourly limit (3) holds although the records of
    a row are marked done together: three sent, two wait as
    rate_limited, nothing is left claimed."""
    slow = make_sink(data_delay=0.15)
    user = new_user(readreceipt_submission_host=slow.address,
                    readreceipt_max_per_hour=3, **AUTO)
    mids = [user.deliver() for _ in range(5)]
    conn = user.imap()
    try:
        for seq in range(1, 6):
            fetch_body(conn, str(seq))
        for mid in mids[:3]:
            line, _ = wait_for_decision(user, mid, "sent")
            assert line["trigger"] == "open", line
        # the first one over the limit says so; the claim behind it is
        # owed again, waiting for the same
        wait_for_decision(user, mids[3], "queued", "rate_limited")
        rows = owed(user)
        assert sorted((r["uid"], r["reason"]) for r in rows) == [
            ("4", "rate_limited"), ("5", "rate_limited")], rows
    finally:
        conn.logout()
    for mid in mids[:3]:
        assert_one_receipt(user, mid, sink=slow)
    time.sleep(scaled(0.5))
    assert len(slow.messages()) == 3


def test_a_row_of_claims_ends_with_the_session(doveadm, new_user,
                                               make_sink):
    """The session ends while receipts claimed in a row are leaving: each
    leaves once, with its decision's trigger, and every record is marked
    done (nothing owed, nothing for a flush)."""
    slow = make_sink(data_delay=0.1)
    user = new_user(readreceipt_submission_host=slow.address,
                    readreceipt_submission_timeout=10, **AUTO)
    mids = [user.deliver() for _ in range(6)]
    conn = user.imap()
    for seq in range(1, 6):
        fetch_body(conn, str(seq))
    # a few have left by now, their records perhaps not yet marked done
    slow.wait_received(2)
    tagged = fetch_then_logout_in_one_write(conn, "6")
    assert tagged["f1"].startswith("f1 OK"), tagged
    for mid in mids:
        line, _ = wait_for_decision(user, mid, "sent")
        assert line["trigger"] == "open", line
        assert_one_receipt(user, mid, sink=slow)
    assert owed(user) == []
    assert flush(user) == 0
    time.sleep(scaled(0.5))
    assert len(slow.messages()) == 6


def test_receipts_a_moment_apart_are_each_recorded_once(doveadm, new_user,
                                                       make_sink):
    """Messages opened a tenth of a second apart, the relay answering at
    once: each receipt leaves as soon as its command has answered, and the
    records of those the relay accepted within half a second are marked
    done together afterwards. Each still gets one receipt, one `sent`
    event with its trigger, and one line in the hourly counter; nothing is
    left owed or claimed."""
    relay_sink = make_sink()
    user = new_user(readreceipt_submission_host=relay_sink.address,
                    readreceipt_max_per_hour=100, **AUTO)
    mids = [user.deliver(subject="paced %d" % i) for i in range(5)]
    start = int(time.time())
    conn = user.imap()
    try:
        for seq in range(1, 6):
            fetch_body(conn, str(seq))
            time.sleep(0.1)
        for mid in mids:
            line, _ = wait_for_decision(user, mid, "sent")
            assert line["trigger"] == "open", line
            assert_one_receipt(user, mid, sink=relay_sink)
        assert owed(user) == []
    finally:
        conn.logout()
    for mid in mids:
        assert [d["decision"] for d in decisions_for(user, mid)] == [
            "sent"], decisions_for(user, mid)
    counter = os.path.join(user.dovecot.home(user.name), "Maildir",
                           "dovecot-readreceipt.rate")
    with open(counter) as f:
        times = [int(t) for t in f.read().split()]
    assert len(times) == 5, times
    assert all(start <= t <= time.time() for t in times), times
    assert flush(user) == 0
    assert len(relay_sink.messages()) == 5


def cached_header_fields(user):
    """Header fields whose caching decision in the user's INBOX index is
    not "no" (doveadm dump): Dovecot caches them for every message."""
    index = os.path.join(user.dovecot.home(user.name), "Maildir",
                         "dovecot.index")
    out = subprocess.run(["doveadm", "dump", index], check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True).stdout
    section = out.split("-- Cache fields --", 1)[1].split("\n--", 1)[0]
    fields = set()
    for line in section.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[1].startswith("hdr.") and \
                parts[4] != "no":
            fields.add(parts[1][4:].lower())
    return fields


def test_reading_headers_starts_no_caching(doveadm, new_user, make_sink):
    """The module reads a message's header once per decision and receipt:
    Dovecot must not start caching those header fields for every message
    because of it (a cache that would grow with each receipt). Two
    receipts: the first claimed by its decision, the second claimed while
    the slow relay holds the first, then (its claim more than a second
    old) read again by the sender."""
    slow = make_sink(data_delay=1.5)
    user = new_user(readreceipt_submission_host=slow.address, **AUTO)
    mids = [user.deliver(), user.deliver()]
    # what Dovecot caches on its own (mail_cache_fields: Dovecot 2.4's
    # default holds Cc, To, From, ...)
    before = cached_header_fields(user)
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        fetch_body(conn, "2")
        for mid in mids:
            wait_for_decision(user, mid, "sent")
        assert [r for r in owed(user)] == []
    finally:
        conn.logout()
    added = cached_header_fields(user) - before
    read_by_module = {"disposition-notification-to",
                      "disposition-notification-options", "return-path",
                      "to", "cc", "content-type", "auto-submitted",
                      "precedence", "list-id", "list-post",
                      "original-recipient"}
    assert not added & read_by_module, (before, added)


OPENED_MAIL_RE = re.compile(r"\bUID (\d+): Opened mail\b")


def test_opening_a_message_opens_its_file_once(workdir, sink):
    """FETCH BODY[] reads the message anyway: the decision takes the
    header from that very stream instead of opening the message again.
    Dovecot (debug log) opens each message once per FETCH: the one that
    gets a receipt, the one that asks for none, and the one whose request
    the policy refuses (its requester is outside)."""
    with running_dovecot(workdir, "dovecot-open-once", sink,
                         plugin_settings=AUTO, debug=True) as dc:
        user = rrharness.MailUser(dc, sink, "reader@example.com", **AUTO)
        mid = user.deliver()
        user.deliver(dnt=None)
        refused = user.deliver(frm="someone@elsewhere.example")
        offset = dc.log_size()
        conn = user.imap()
        try:
            start = time.monotonic()
            fetch_body(conn, "1")
            user.wait_receipts(1, message_id=mid)
            # the sender reads the message again only for a claim more
            # than a second old (a machine far too busy)
            fresh_claim = time.monotonic() - start < 1.0
            fetch_body(conn, "2")
            fetch_body(conn, "3")
            assert_one_receipt(user, mid)
        finally:
            conn.logout()
        wait_for_decision(user, mid, "sent")
        wait_for_decision(user, refused, "suppressed")
        opened = [int(m.group(1)) for m in
                  (OPENED_MAIL_RE.search(line)
                   for line in dc.log_text(offset).splitlines()
                   if "imap(" in line) if m]
        assert opened.count(2) == 1, opened
        assert opened.count(3) == 1, opened
        assert opened.count(1) == 1 or \
            (not fresh_claim and opened.count(1) == 2), opened
        problems = dc.problems(offset)
        assert not problems, problems


# ---------------------------------------------------------------- 2. the record, not the keyword

def test_clearing_flags_never_sends_a_second_receipt(doveadm, new_user):
    user = new_user(**AUTO)
    mid = user.deliver()
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        assert_one_receipt(user, mid)
        wait_for_decision(user, mid, "sent")
        for op, flag in (("-FLAGS", "($MDNSent)"), ("-FLAGS", "(\\Seen)"),
                         ("+FLAGS", "(\\Seen)"), ("-FLAGS", "(\\Seen)")):
            imap_check(conn.store("1", op, flag))
        assert "$MDNSent" not in fetch_flags(conn, "1")
        fetch_body(conn, "1")
    finally:
        conn.logout()
    # and again in a new session, after a flush
    assert flush(user) == 0
    conn = user.imap()
    try:
        imap_check(conn.store("1", "-FLAGS", "(\\Seen $MDNSent)"))
        fetch_body(conn, "1")
        # decisions and receipts of this session are complete after it
        user.marker(conn)
    finally:
        conn.logout()
    assert len(user.receipts_for(mid)) == 1, user.receipts()
    sent = [d for d in decisions_for(user, mid) if d["decision"] == "sent"]
    assert len(sent) == 1, decisions_for(user, mid)
    assert owed(user) == []


# ---------------------------------------------------------------- 3. Message-IDs

def test_receipt_message_ids_are_distinct(doveadm, new_user):
    """Different messages (other UID, same UID in another mailbox, same
    mailbox and UID of another user) get receipts with different
    Message-IDs, none of them the original's."""
    alice = new_user(**AUTO)
    bob = new_user("bob", **AUTO)
    mids = [alice.deliver(subject="one"), alice.deliver(subject="two")]
    conn = alice.imap()
    try:
        imap_check(conn.create("Projects"))
        third = alice.append(conn, alice.message(subject="three",
                                                 return_path=BOSS),
                             mailbox="Projects")
        fetch_body(conn, "1")
        fetch_body(conn, "2")
        imap_check(conn.select("Projects"))
        fetch_body(conn, "1")
        for mid in mids + [third]:
            alice.wait_receipts(1, message_id=mid)
    finally:
        conn.logout()
    bob_mid = bob.deliver(subject="one")
    conn = bob.imap()
    try:
        fetch_body(conn, "1")
        bob.wait_receipts(1, message_id=bob_mid)
    finally:
        conn.logout()
    receipts = [alice.receipts_for(m)[0] for m in mids + [third]] + \
        [bob.receipts_for(bob_mid)[0]]
    ids = [r["Message-ID"].strip() for r in receipts]
    for value in ids:
        assert MSG_ID_RE.match(value), value
    assert len(set(ids)) == 4, ids
    assert not set(ids) & set(mids + [third, bob_mid])


# ---------------------------------------------------------------- 4. events

def test_temporary_failure_is_owed_as_retry(doveadm, new_user, tempfail_sink):
    before = len(tempfail_sink.rejected())
    user = new_user(readreceipt_submission_host=tempfail_sink.address,
                    **AUTO)
    mid = user.deliver()
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        line, event = wait_for_decision(user, mid, "queued", "retry")
    finally:
        conn.logout()
    assert line["trigger"] == "open", line
    assert len(tempfail_sink.rejected()) > before
    rows = owed(user)
    assert [(r["uid"], r["reason"]) for r in rows] == [("1", "retry")], rows
    # recorded with $MDNSent; the record keeps it owed
    assert "$MDNSent" in user.flags()
    assert not [d for d in decisions_for(user, mid)
                if d["decision"] in ("sent", "failed")]


def test_permanent_failure_ends_it(doveadm, new_user, reject_sink, dovecot):
    before = len(reject_sink.rejected())
    user = new_user(readreceipt_submission_host=reject_sink.address, **AUTO)
    mid = user.deliver()
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        line, event = wait_for_decision(user, mid, "failed",
                                        "permanent_failure")
    finally:
        conn.logout()
    assert line["trigger"] == "open", line
    assert event["reason"] == "permanent_failure", event
    rejected = reject_sink.rejected()[before:]
    assert [(r["mail_from"], r["rcpt_to"]) for r in rejected] == \
        [("", BOSS)]
    assert any("550" in l.text for l in dovecot.log_lines()
               if l.user == user.name), "the 550 reply is not logged"
    # not owed any more, never retried
    assert owed(user) == []
    assert flush(user) == 0
    conn = user.imap()
    conn.logout()
    time.sleep(scaled(0.5))
    assert len(reject_sink.rejected()) == before + 1
    assert [d["decision"] for d in decisions_for(user, mid)] == ["failed"]


def test_expunged_before_it_left(doveadm, new_user, refused_port):
    user = new_user(readreceipt_submission_host=relay(refused_port), **AUTO)
    mid = user.deliver(subject="gone before the receipt")
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        wait_for_decision(user, mid, "queued", "retry")
        assert [r["message_id"] for r in owed(user)] == [mid]
        imap_check(conn.store("1", "+FLAGS", "(\\Deleted)"))
        imap_check(conn.expunge())
    finally:
        conn.logout()
    # the relay is back
    user.update_settings(readreceipt_submission_host=None)
    assert flush(user) == 0
    # the message is gone: the decision names its mailbox and UID
    line, event = wait_for_decision(user, None, "failed", "expunged",
                                    uid=1)
    assert (line["mailbox"], event["mailbox"]) == ("INBOX", "INBOX")
    assert owed(user) == []
    assert user.receipts_for(mid) == []


# ---------------------------------------------------------------- 5. list

def test_list_shows_owed_without_attribute_dict(doveadm, new_user,
                                                refused_port):
    user = new_user(readreceipt_submission_host=relay(refused_port), **AUTO)
    assert not has_attribute_dict(user.settings)
    mid = user.deliver(subject="Owed report")
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        wait_for_decision(user, mid, "queued", "retry")
    finally:
        conn.logout()
    start = time.time()
    for args in ([], ["INBOX"]):
        rows = owed(user, *args)
        assert len(rows) == 1, rows
        row = rows[0]
        assert (row["mailbox"], row["uid"], row["reason"], row["to"],
                row["subject"], row["message_id"]) == \
            ("INBOX", "1", "retry", BOSS, "Owed report", mid), row
        assert ISO_UTC_RE.match(row["since"]), row
        since = calendar.timegm(time.strptime(row["since"],
                                              "%Y-%m-%dT%H:%M:%SZ"))
        assert abs(since - start) < 120, row
    assert user.receipts() == []


def test_rate_limited_is_owed_then_flushed(doveadm, new_user):
    user = new_user(readreceipt_max_per_hour=1, **AUTO)
    mid1 = user.deliver(subject="first")
    mid2 = user.deliver(subject="second")
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        assert_one_receipt(user, mid1)
        fetch_body(conn, "2")
        wait_for_decision(user, mid2, "queued", "rate_limited")
    finally:
        conn.logout()
    rows = owed(user)
    assert [(r["uid"], r["reason"], r["message_id"]) for r in rows] == \
        [("2", "rate_limited", mid2)], rows
    assert user.receipts_for(mid2) == []
    # as an hour later
    user.update_settings(readreceipt_max_per_hour=10)
    assert flush(user) == 1
    assert_one_receipt(user, mid2)
    wait_for_decision(user, mid2, "sent", line=False)
    assert owed(user) == []


def test_rate_counts_the_newest_end_of_a_long_counter_file(doveadm,
                                                           new_user):
    """The hourly counter gets a line per receipt; it is read from its
    end, where the newest sends are, and compacted when it holds more than
    the limit needs."""
    user = new_user(readreceipt_max_per_hour=3, **AUTO)
    mid = user.deliver(subject="over the limit")
    now = int(time.time())
    # more sends of long ago than the module reads of the file (256 KB),
    # then three of the last minutes: the limit of 3 is reached
    old = "".join("%d\n" % (now - 7200 - i) for i in range(30000))
    recent = "".join("%d\n" % (now - 300 + i) for i in range(3))
    assert len(old) > 256 * 1024
    path = user.dovecot.write_user_file(
        user.name, "Maildir/dovecot-readreceipt.rate", old + recent)
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        wait_for_decision(user, mid, "queued", "rate_limited")
    finally:
        conn.logout()
    assert user.receipts_for(mid) == []

    user.update_settings(readreceipt_max_per_hour=10)
    assert flush(user) == 1
    assert_one_receipt(user, mid)
    # compacted to the sends of the last hour, the new one appended
    with open(path) as f:
        times = [int(line) for line in f.read().split()]
    assert len(times) == 4, times
    assert times[:3] == [now - 300 + i for i in range(3)], times
    assert now <= times[3] <= int(time.time()), times


# ---------------------------------------------------------------- 6. flush

def test_flush_stops_at_first_temporary_failure(doveadm, new_user,
                                                refused_port, tempfail_sink):
    user = new_user(readreceipt_submission_host=relay(refused_port), **AUTO)
    mids = [user.deliver(subject="report %d" % i) for i in range(2)]
    conn = user.imap()
    try:
        for seq in ("1", "2"):
            fetch_body(conn, seq)
        # the first attempt fails; the session's batch stops there, so
        # the second may not have been tried yet
        wait_for_decision(user, mids[0], "queued", "retry")
    finally:
        conn.logout()
    wait_owed(user, 2, reasons=("owed", "retry"))

    user.update_settings(readreceipt_submission_host=tempfail_sink.address)
    before = len(tempfail_sink.rejected())
    # doveadm's "temporary failure" exit code may say so
    assert flush(user, rc=(0, rrharness.EX_TEMPFAIL)) == 0
    # one attempt, then the batch stopped
    assert len(tempfail_sink.rejected()) == before + 1
    reasons = [r["reason"] for r in owed(user)]
    assert len(reasons) == 2 and "retry" in reasons and \
        set(reasons) <= {"owed", "retry"}, reasons

    user.update_settings(readreceipt_submission_host=None)
    assert flush(user) == 2
    for mid in mids:
        assert_one_receipt(user, mid)
        wait_for_decision(user, mid, "sent", line=False)
    assert owed(user) == []
    assert flush(user) == 0
    assert len(user.receipts()) == 2


def test_flush_expires_old_pending_prompts(doveadm, new_user, dovecot):
    user = dict_user(new_user, dovecot, readreceipt_pending_expire="2s",
                     **PROMPT)
    old = open_to_prompt(user, 1, subject="old prompt")
    time.sleep(2.5)
    new = open_to_prompt(user, 2, subject="new prompt")

    assert flush(user) == 0
    _, event = wait_for_decision(user, old, "ignored", "expired",
                                 line=False)
    assert event["trigger"] == "flush", event
    conn = user.imap()
    try:
        assert getmetadata(conn, PENDING_PREFIX + "1") is None
        assert json.loads(getmetadata(conn, PENDING_PREFIX + "2"))[
            "message_id"] == new
        assert "$MDNSent" in fetch_flags(conn, "1")
        assert "$MDNSent" not in fetch_flags(conn, "2")
    finally:
        conn.logout()
    assert [d["decision"] for d in decisions_for(user, new)] == ["queued"]
    assert user.receipts() == []


def test_pending_expire_zero_keeps_prompts(doveadm, new_user, dovecot):
    user = dict_user(new_user, dovecot, readreceipt_pending_expire="0",
                     **PROMPT)
    mid = open_to_prompt(user, 1)
    time.sleep(1.5)
    assert flush(user) == 0
    conn = user.imap()
    try:
        assert getmetadata(conn, PENDING_PREFIX + "1") is not None
        assert "$MDNSent" not in fetch_flags(conn, "1")
    finally:
        conn.logout()
    assert [d["decision"] for d in decisions_for(user, mid)] == ["queued"]


# ---------------------------------------------------------------- 7. crashes and sessions

def test_killed_while_relay_holds_data_reply(doveadm, new_user, dovecot,
                                             make_sink):
    """The imap process dies before the relay answered DATA: the relay
    kept nothing; the claim is taken over only after
    readreceipt_submission_timeout + 5 s; then exactly one receipt."""
    timeout = 3
    slow = make_sink(data_delay=30)
    user = new_user(readreceipt_submission_host=slow.address,
                    readreceipt_submission_timeout=timeout, **AUTO)
    mid = user.deliver()
    conn = user.imap()
    fetch_body(conn, "1")
    claimed = slow.wait_received(1)[0]["time"]
    dovecot.kill_session(conn)
    close_dead(conn)
    wait_until(slow.dropped, scaled(5), what="the sink to see the client go")
    assert slow.messages() == []
    # the relay answers at once from now on
    slow.set_data_delay(0)
    rows = owed(user)
    assert [(r["uid"], r["reason"]) for r in rows] == [("1", "sending")], \
        rows
    assert "$MDNSent" in user.flags()

    # the claim is still fresh: nobody takes it over yet
    assert flush(user) == 0
    assert slow.messages() == []

    sleep_until(claimed + timeout + CLAIM_GRACE + 1)
    assert flush(user) == 1
    assert_one_receipt(user, mid, sink=slow)
    wait_for_decision(user, mid, "sent", line=False)
    assert owed(user) == []
    assert "$MDNSent" in user.flags()
    # and nothing more later
    assert flush(user) == 0
    assert len(slow.messages()) == 1


def test_killed_with_claims_queued(doveadm, new_user, dovecot, make_sink):
    """Messages opened while the relay holds the first receipt's DATA
    reply are claimed by their decisions ("sending", not "owed"); the
    process dies: the claims are taken over after
    readreceipt_submission_timeout + 5 s, then one receipt each."""
    timeout = 3
    slow = make_sink(data_delay=30)
    user = new_user(readreceipt_submission_host=slow.address,
                    readreceipt_submission_timeout=timeout, **AUTO)
    mids = [user.deliver() for _ in range(4)]
    conn = user.imap()
    fetch_body(conn, "1")
    slow.wait_received(1)
    for seq in ("2", "3", "4"):
        fetch_body(conn, seq)
    rows = owed(user)
    assert sorted((r["uid"], r["reason"]) for r in rows) == [
        (str(uid), "sending") for uid in range(1, 5)], rows
    claimed = time.time()
    dovecot.kill_session(conn)
    close_dead(conn)
    slow.set_data_delay(0)

    # nobody takes the claims over while they are fresh
    assert flush(user) == 0
    assert slow.messages() == []
    sleep_until(claimed + timeout + CLAIM_GRACE + 1)
    assert flush(user) == 4
    for mid in mids:
        assert_one_receipt(user, mid, sink=slow)
    assert owed(user) == []
    assert flush(user) == 0


def test_killed_after_relay_accepted(doveadm, new_user, dovecot, make_sink):
    """The process is stopped while it waits for the reply to DATA, the
    relay answers 250 (and keeps the message), then the process is killed:
    it never learned that the receipt left. The one duplicate allowed
    carries the same Message-ID."""
    timeout = 3
    slow = make_sink(data_delay=1)
    user = new_user(readreceipt_submission_host=slow.address,
                    readreceipt_submission_timeout=timeout, **AUTO)
    mid = user.deliver()
    conn = user.imap()
    fetch_body(conn, "1")
    claimed = slow.wait_received(1)[0]["time"]
    dovecot.kill_session(conn, signal.SIGSTOP)
    slow.wait_for(1)
    dovecot.kill_session(conn, signal.SIGKILL)
    close_dead(conn)
    slow.set_data_delay(0)

    sleep_until(claimed + timeout + CLAIM_GRACE + 1)
    assert flush(user) == 1
    time.sleep(scaled(0.5))
    receipts = user.receipts_for(mid, sink=slow)
    # the record was never marked done: it is sent again, once
    assert len(receipts) == 2, receipts
    ids = {r["Message-ID"].strip() for r in receipts}
    assert len(ids) == 1, ids
    assert owed(user) == []
    assert flush(user) == 0
    assert len(user.receipts_for(mid, sink=slow)) == 2


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_next_session_sends_what_was_left(doveadm, new_user, refused_port,
                                          protocol):
    user = new_user(readreceipt_submission_host=relay(refused_port), **AUTO)
    mid = user.deliver()
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        wait_for_decision(user, mid, "queued", "retry")
    finally:
        conn.logout()
    assert user.receipts() == []
    user.update_settings(readreceipt_submission_host=None)
    # a login is all it takes
    if protocol == "imap":
        conn = user.imap(mailbox=None)
        try:
            assert_one_receipt(user, mid)
            line, _ = wait_for_decision(user, mid, "sent")
            imap_check(conn.noop())
        finally:
            conn.logout()
    else:
        pop = user.pop3()
        try:
            assert_one_receipt(user, mid)
            line, _ = wait_for_decision(user, mid, "sent")
            pop.noop()
        finally:
            pop.quit()
    assert line["_service"] == protocol, line
    assert owed(user) == []


def test_later_sends_have_trigger_flush(doveadm, new_user, refused_port):
    """A receipt that leaves in a later pass (doveadm flush, the next
    session) is logged with trigger=flush (SPEC §7, as test_queue's
    retries); one sent right after the open keeps trigger=open."""
    down = relay(refused_port)
    user = new_user(readreceipt_submission_host=down, **AUTO)
    mids = [user.deliver(subject="report %d" % i) for i in range(3)]

    def open_while_down(seq, mid):
        user.update_settings(readreceipt_submission_host=down)
        conn = user.imap()
        try:
            fetch_body(conn, seq)
            wait_for_decision(user, mid, "queued", "retry")
        finally:
            conn.logout()
        user.update_settings(readreceipt_submission_host=None)

    # sent by doveadm flush
    open_while_down("1", mids[0])
    assert flush(user) == 1
    _, event = wait_for_decision(user, mids[0], "sent", line=False)
    assert event["trigger"] == "flush", event
    # sent by the next session
    open_while_down("2", mids[1])
    conn = user.imap(mailbox=None)
    try:
        user.wait_receipts(1, message_id=mids[1])
        line, event = wait_for_decision(user, mids[1], "sent")
    finally:
        conn.logout()
    assert (line["trigger"], event["trigger"]) == ("flush", "flush"), line
    # sent right after the open
    conn = user.imap()
    try:
        fetch_body(conn, "3")
        line, event = wait_for_decision(user, mids[2], "sent")
    finally:
        conn.logout()
    assert (line["trigger"], event["trigger"]) == ("open", "open"), line


# ---------------------------------------------------------------- 8. answers

def test_answer_send_while_relay_down(doveadm, new_user, dovecot,
                                      refused_port):
    user = dict_user(new_user, dovecot, **PROMPT)
    mid = open_to_prompt(user, 1)
    user.update_settings(readreceipt_submission_host=relay(refused_port))
    conn = user.imap()
    try:
        imap_check(setmetadata(conn, PENDING_PREFIX + "1", "send"))
        # gone at once; "send" is never stored
        assert getmetadata(conn, PENDING_PREFIX + "1") is None
        assert "$MDNSent" in fetch_flags(conn, "1")
        rows = wait_owed(user, 1)
        assert (rows[0]["uid"], rows[0]["message_id"]) == ("1", mid), rows
        wait_for_decision(user, mid, "queued", "retry")
    finally:
        conn.logout()
    with open(dict_path(user), "rb") as f:
        assert b"send" not in f.read()
    assert user.receipts() == []
    # committed: a new session sees it too
    assert "$MDNSent" in user.flags()

    user.update_settings(readreceipt_submission_host=None)
    assert flush(user) == 1
    receipt = assert_one_receipt(user, mid, MANUAL)
    assert receipt["Auto-Submitted"] is None
    wait_for_decision(user, mid, "sent", line=False)
    assert owed(user) == []
    assert flush(user) == 0
    assert len(user.receipts_for(mid)) == 1


# ---------------------------------------------------------------- 9. no writes without an entry

def test_expunging_many_messages_leaves_the_dict_alone(doveadm, new_user,
                                                       dovecot):
    user = dict_user(new_user, dovecot, **PROMPT)
    mid = open_to_prompt(user, 1, subject="waits for an answer")
    # 1000 requesting messages, put straight into the Maildir
    new_dir = os.path.join(dovecot.home(user.name), "Maildir", "new")
    pw = dovecot.mail_pw
    now = int(time.time())
    for i in range(1000):
        raw = user.message(subject="bulk %d" % i)
        path = os.path.join(new_dir, "%d.M%dP%d.rrtest" % (now, i,
                                                           os.getpid()))
        with open(path, "wb") as f:
            f.write(raw)
        os.chown(path, pw.pw_uid, pw.pw_gid)
    path = dict_path(user)
    time.sleep(0.2)
    before = os.stat(path)
    with open(path, "rb") as f:
        content = f.read()

    conn = user.imap(mailbox=None)
    try:
        count = int(imap_check(conn.select("INBOX"))[0])
        assert count == 1001, count
        imap_check(conn.store("2:1001", "+FLAGS.SILENT", "(\\Deleted)"))
        imap_check(conn.expunge())
        count = int(imap_check(conn.select("INBOX"))[0])
        assert count == 1
        assert getmetadata(conn, PENDING_PREFIX + "1") is not None
    finally:
        conn.logout()
    time.sleep(0.5)
    after = os.stat(path)
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == \
        (before.st_ino, before.st_mtime_ns, before.st_size)
    with open(path, "rb") as f:
        assert f.read() == content
    assert stat.S_ISREG(after.st_mode)
    assert [d["message_id"] for d in user.decision_lines()] == [mid]
    assert [(r["uid"], r["reason"]) for r in owed(user)] == \
        [("1", "unprompted")]


# ---------------------------------------------------------------- 10. how the relay is reached

def test_submission_host_with_starttls(workdir, sink, make_sink):
    """No readreceipt_submission_host: Dovecot's submission_host with
    submission_ssl = starttls, trusting the relay's self-signed
    certificate through ssl_client_ca_file."""
    tls_sink = make_sink(tls=True, require_tls=True)
    with running_dovecot(
            workdir, "dovecot-starttls", sink, submission_host=None,
            submission_relay=None,
            global_settings={"submission_host": tls_sink.address,
                             "submission_ssl": "starttls",
                             "ssl_client_ca_file": tls_sink.cert_file,
                             "ssl_client_require_valid_cert": "yes"}) as dc:
        offset = dc.log_size()
        user = rrharness.MailUser(dc, tls_sink, "tls-user@example.com",
                                  **AUTO)
        mid = user.deliver()
        conn = user.imap()
        try:
            fetch_body(conn, "1")
            receipt = assert_one_receipt(user, mid, sink=tls_sink)
            wait_for_decision(user, mid, "sent")
        finally:
            conn.logout()
        assert receipt.tls, "the receipt did not arrive over TLS"
        assert not dc.problems(offset)


def test_receipts_in_a_burst_share_one_connection(doveadm, new_user,
                                                  make_sink):
    """Receipts that follow each other closely go over one connection to
    the relay (one transaction after the other); a connection left idle
    for more than two seconds is closed, and the next receipt opens a new
    one."""
    relay_sink = make_sink()
    user = new_user(readreceipt_submission_host=relay_sink.address, **AUTO)
    mids = [user.deliver(subject="burst %d" % i) for i in range(4)]
    offset = user.dovecot.log_size()
    conn = user.imap()
    try:
        for seq in ("1", "2", "3"):
            fetch_body(conn, seq)
        burst = [assert_one_receipt(user, mid, sink=relay_sink)
                 for mid in mids[:3]]
        assert len({r.peer for r in burst}) == 1, \
            [r.peer for r in burst]
        time.sleep(scaled(3))
        fetch_body(conn, "4")
        later = assert_one_receipt(user, mids[3], sink=relay_sink)
        assert later.peer != burst[0].peer, \
            "the idle connection was used again after 3 s"
    finally:
        conn.logout()
    for mid in mids:
        wait_for_decision(user, mid, "sent")
    assert owed(user) == []
    assert not user.dovecot.problems(offset)


def test_session_closes_the_mailbox_while_receipts_wait(doveadm, new_user,
                                                        make_sink):
    """The sender records in the session's own open mailbox; when the
    session closes that mailbox while one receipt is at the relay and
    another waits behind it, both still go out and are recorded."""
    slow = make_sink(data_delay=1.0)
    user = new_user(readreceipt_submission_host=slow.address,
                    readreceipt_submission_timeout=10, **AUTO)
    first, second = user.deliver(), user.deliver()
    offset = user.dovecot.log_size()
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        fetch_body(conn, "2")
        slow.wait_received(1)
        imap_check(conn.close())
        assert_one_receipt(user, first, sink=slow)
        assert_one_receipt(user, second, sink=slow)
        for mid in (first, second):
            line, _ = wait_for_decision(user, mid, "sent")
            assert line["trigger"] == "open"
        wait_until(lambda: owed(user) == [], scaled(5),
                   what="both receipts recorded as sent")
        imap_check(conn.noop())
    finally:
        conn.logout()
    assert flush(user) == 0
    assert len(slow.messages()) == 2
    assert not user.dovecot.problems(offset)


def test_relay_that_closed_the_idle_connection(doveadm, new_user, make_sink):
    """A relay that closes an idle connection sooner than the module would:
    the next receipt goes out over a new connection, at once, and nothing
    is logged as a problem."""
    relay_sink = make_sink(idle_timeout=0.5)
    user = new_user(readreceipt_submission_host=relay_sink.address, **AUTO)
    first, second = user.deliver(), user.deliver()
    offset = user.dovecot.log_size()
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        one = assert_one_receipt(user, first, sink=relay_sink)
        # the relay has closed it by now; the module still had it
        time.sleep(1.2)
        fetch_body(conn, "2")
        two = assert_one_receipt(user, second, sink=relay_sink)
        assert one.peer != two.peer
        line, _ = wait_for_decision(user, second, "sent")
        assert line["trigger"] == "open"
    finally:
        conn.logout()
    assert owed(user) == []
    assert not user.dovecot.problems(offset)


SENDMAIL_SCRIPT = """#!/usr/bin/python3
import json, os, sys, time
data = sys.stdin.buffer.read()
name = "%%d-%%d.json" %% (time.time_ns(), os.getpid())
tmp = os.path.join(%(dir)r, ".tmp-" + name)
with open(tmp, "w") as f:
    json.dump({"argv": sys.argv[1:], "stdin": data.decode("utf-8", "replace"),
               "uid": os.getuid()}, f)
os.rename(tmp, os.path.join(%(dir)r, name))
"""


def test_sendmail_path_without_any_submission_host(workdir, sink):
    base = os.path.join(workdir, "sendmail")
    out = os.path.join(base, "out")
    os.makedirs(out, exist_ok=True)
    os.chmod(base, 0o755)
    os.chmod(out, 0o777)
    script = os.path.join(base, "sendmail")
    with open(script, "w") as f:
        f.write(SENDMAIL_SCRIPT % {"dir": out})
    os.chmod(script, 0o755)
    with running_dovecot(workdir, "dovecot-sendmail", sink,
                         submission_host=None, submission_relay=None,
                         global_settings={"sendmail_path": script}) as dc:
        offset = dc.log_size()
        user = rrharness.MailUser(dc, sink, "sendmail-user@example.com",
                                  **AUTO)
        mid = user.deliver()
        conn = user.imap()
        try:
            fetch_body(conn, "1")
            wait_until(lambda: os.listdir(out), scaled(5),
                       what="the sendmail script to run")
            wait_for_decision(user, mid, "sent")
        finally:
            conn.logout()
        assert not dc.problems(offset)
    calls = []
    for name in sorted(os.listdir(out)):
        if name.endswith(".json") and not name.startswith("."):
            with open(os.path.join(out, name)) as f:
                calls.append(json.load(f))
    assert len(calls) == 1, calls
    argv = calls[0]["argv"]
    assert "-f" in argv, argv
    i = argv.index("-f")
    assert argv[i + 1] == "<>", argv
    assert argv[-1] == BOSS, argv
    mdn = email.message_from_string(calls[0]["stdin"],
                                    policy=email.policy.default)
    assert mdn["In-Reply-To"].strip() == mid
    assert mdn.get_content_type() == "multipart/report"
    assert normalize_ws(disposition_fields(mdn)["disposition"]) == AUTOMATIC
    assert sink.find(mid.encode()) == []


# ---------------------------------------------------------------- 11. POP3

def test_pop3_quit_does_not_wait_for_the_relay(doveadm, new_user,
                                               make_sink):
    delay = 1.5
    slow = make_sink(data_delay=delay)
    user = new_user(readreceipt_submission_host=slow.address,
                    readreceipt_submission_timeout=6, **AUTO)
    mid = user.deliver()
    pop = user.pop3()
    pop.retr(1)
    _, elapsed = timed(pop.quit)
    assert elapsed < scaled(delay / 2), \
        "QUIT took %.2fs: it waited for the relay" % elapsed
    assert slow.messages() == []
    assert_one_receipt(user, mid, sink=slow)
    line, _ = wait_for_decision(user, mid, "sent")
    assert line["trigger"] == "pop3", line
    # the process waited for the relay's answer instead of sending again
    assert len(slow.received()) == 1, slow.received()
    assert slow.dropped() == []
    assert {"\\Seen", "$MDNSent"} <= user.flags()


# ---------------------------------------------------------------- 12. relays that never answer

def hanging_relay_user(new_user, hang_sink, timeout):
    """A user whose relay never greets, with one message that asks for a
    receipt: (user, message_id, a function that waits until the relay has
    one more connection than it had before)."""
    before = len(hang_sink.connections())
    user = new_user(readreceipt_submission_host=hang_sink.address,
                    readreceipt_submission_timeout=timeout, **AUTO)

    def wait_connected():
        wait_until(lambda: len(hang_sink.connections()) > before,
                   scaled(5), what="a connection to the relay")
        return before
    return user, user.deliver(), wait_connected


def relay_comes_back(user, sink, mid):
    """The relay answers again: a flush sends the owed receipt, once."""
    user.update_settings(readreceipt_submission_host=sink.address)
    assert flush(user) == 1
    assert_one_receipt(user, mid)
    assert owed(user) == []


def test_relay_never_greets(doveadm, new_user, hang_sink, sink):
    timeout = 10
    user, mid, wait_connected = hanging_relay_user(new_user, hang_sink,
                                                   timeout)
    conn = user.imap()
    try:
        body, elapsed = open_timed(conn, "1")
        assert b"Quarterly report" in body
        assert elapsed < scaled(3), elapsed
        imap_check(conn.noop())
        wait_connected()
        rows = owed(user)
        assert [(r["uid"], r["message_id"]) for r in rows] == [("1", mid)]
        assert rows[0]["reason"] in OWED_REASONS, rows
        # the process gives up after the timeout
        wait_for_decision(user, mid, "queued", "retry",
                          timeout=timeout + 5)
    finally:
        conn.logout()
    assert [r["reason"] for r in owed(user)] == ["retry"]
    relay_comes_back(user, sink, mid)


def test_logout_before_relay_greets(doveadm, new_user, hang_sink, sink):
    """The session ends while its connection to the relay waits for the
    greeting: nothing of the receipt reached the relay, so the logout
    gives that try up and makes one more within the timeout; it stays
    owed as retry, and leaves once, later."""
    timeout = 2
    user, mid, wait_connected = hanging_relay_user(new_user, hang_sink,
                                                   timeout)
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        before = wait_connected()
    finally:
        conn.logout()
    line, _ = wait_for_decision(user, mid, "queued", "retry",
                                timeout=timeout + 5)
    assert line["trigger"] == "open", line
    # the aborted try and the one made at logout
    assert len(hang_sink.connections()) == before + 2
    assert [r["reason"] for r in owed(user)] == ["retry"]
    relay_comes_back(user, sink, mid)
    assert flush(user) == 0


def test_many_owed_do_not_slow_other_commands(doveadm, new_user,
                                              refused_port):
    user = new_user(readreceipt_submission_host=relay(refused_port), **AUTO)
    count = 50
    mids = [user.deliver(subject="report %d" % i) for i in range(count)]
    user.deliver(subject="no receipt asked", dnt=False)
    conn = user.imap()
    try:
        for uid in range(1, count + 1):
            open_timed(conn, str(uid))
        wait_owed(user, count, timeout=15)
        body, elapsed = open_timed(conn, str(count + 1))
        assert b"no receipt asked" in body
        assert elapsed < scaled(3), elapsed
    finally:
        conn.logout()
    # a new session starts on what is owed right after login
    conn = user.imap()
    try:
        body, elapsed = open_timed(conn, str(count + 1))
        assert elapsed < scaled(3), elapsed
        imap_check(conn.noop())
    finally:
        conn.logout()
    assert len(owed(user)) == count
    assert user.receipts() == []
    assert not [d for d in user.decision_lines()
                if d["decision"] == "sent" and d["message_id"] in mids]
