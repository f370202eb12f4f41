"""Hostile input (SPEC §13): a message written by a stranger to cost as
much as possible, and IMAP commands written by a user who tries anything.
The work stays bounded and nothing the module does not own is stored.

How long things take is printed (pytest -s shows it), never asserted: the
benchmark (bench/run.py hostile) measures it."""

import os
import time

import pytest

from rrharness import PENDING_PREFIX, attribute_dict_settings, \
    fetch_body, fetch_flags, getmetadata, imap_check, setmetadata, \
    wait_until, scaled

PROMPT = {"readreceipt_mode": "internal", "readreceipt_prompt": "yes",
          "readreceipt_unprompted": "defer"}
AUTO = {"readreceipt_mode": "internal", "readreceipt_prompt": "no"}
VENDOR = "/private/vendor/vendor.readreceipt"


def dict_user(new_user, dovecot, **settings):
    """A user with an attribute dict, so that prompts can be queued."""
    user = new_user(**settings)
    user.update_settings(**attribute_dict_settings(
        "%s/dovecot-attributes" % dovecot.home(user.name)))
    return user


def decisions_for(user, message_id):
    return [d for d in user.decision_lines()
            if d.get("message_id") == message_id]


def wait_decision(user, message_id, count=1, timeout=5):
    wait_until(lambda: len(decisions_for(user, message_id)) >= count,
               scaled(timeout), what="decision for %s" % message_id)
    return decisions_for(user, message_id)


def huge_request(user, headers=300, per_header=100):
    """A message with `headers` Disposition-Notification-To fields of
    `per_header` addresses each (300 x 100: about 750 KB of header)."""
    addrs = ", ".join("someone%d@example.org" % i for i in range(per_header))
    extra = [("Disposition-Notification-To", addrs)] * (headers - 1)
    return user.message(extra_headers=extra)


def put_in_maildir(user, dovecot, raws):
    """Messages straight into the user's Maildir/new (the user must have
    logged in once). Much faster than LMTP for thousands."""
    new_dir = os.path.join(dovecot.home(user.name), "Maildir", "new")
    pw = dovecot.mail_pw
    now = int(time.time())
    for i, raw in enumerate(raws):
        path = os.path.join(new_dir, "%d.M%dP%d.rrhostile" %
                            (now, i, os.getpid()))
        with open(path, "wb") as f:
            f.write(raw)
        os.chown(path, pw.pw_uid, pw.pw_gid)


def metadata_tree(conn, mailbox="INBOX"):
    """Every private entry under the module's namespace, as raw bytes of
    the untagged METADATA responses."""
    typ, data = conn._simple_command(
        "GETMETADATA", "(DEPTH infinity)", '"%s"' % mailbox, VENDOR)
    assert typ == "OK", data
    typ, data = conn._untagged_response(typ, data, "METADATA")
    out = []
    for item in data:
        if isinstance(item, tuple):
            out.extend(x for x in item if isinstance(x, bytes))
        elif item is not None:
            out.append(item)
    return b" ".join(out)


# ---------------------------------------------------------------- per message

def test_huge_request_is_invalid_at_delivery_and_open(new_user, dovecot):
    """300 Disposition-Notification-To fields of 100 addresses: the
    request is invalid at once, at delivery (readreceipt_hide_forbidden,
    on by default; the test instance turns it off) and, without it, at the
    open; the event's fields stay within 1 KB."""
    user = new_user(readreceipt_hide_forbidden="yes", **AUTO)
    raw = huge_request(user)
    assert len(raw) > 650 * 1024
    started = time.monotonic()
    mid = user.deliver(raw)
    print("delivery of a %d KB header: %.3f s" %
          (len(raw) // 1024, time.monotonic() - started))
    d = wait_decision(user, mid)[-1]
    assert (d["decision"], d["reason"], d["trigger"]) == \
        ("suppressed", "invalid_request", "delivery"), d
    assert "$MDNSent" in user.flags()

    # and when nothing is decided at delivery, the open decides the same
    user2 = new_user(**AUTO)
    mid2 = user2.deliver(huge_request(user2))
    conn = user2.imap()
    try:
        started = time.monotonic()
        fetch_body(conn, "1")
        print("open: %.3f s" % (time.monotonic() - started))
    finally:
        conn.logout()
    d = wait_decision(user2, mid2)[-1]
    assert (d["decision"], d["reason"], d["trigger"]) == \
        ("suppressed", "invalid_request", "open"), d
    assert user2.receipts() == []
    for line in user.decision_lines() + user2.decision_lines():
        for key, value in line.items():
            if not key.startswith("_"):
                assert len(value.encode()) <= 1024, (key, len(value))


def test_long_recipient_list_is_cut_in_the_event(new_user, dovecot):
    """A valid request of 100 addresses (mode internal, all outside):
    recipient_not_allowed, and the event's recipient field is cut to 1 KB
    with the marker."""
    user = new_user(**AUTO)
    addrs = ["someone%d@outside.example" % i
             for i in range(100)]
    mid = user.deliver(dnt=addrs)
    conn = user.imap()
    try:
        fetch_body(conn, "1")
    finally:
        conn.logout()
    d = wait_decision(user, mid)[-1]
    assert d["reason"] == "recipient_not_allowed", d
    assert len(d["recipient"].encode()) == 1024, len(d["recipient"])
    assert d["recipient"].startswith(addrs[0] + ",")
    assert d["recipient"].endswith("...[truncated]")


# ---------------------------------------------------------------- per command

@pytest.mark.parametrize("name", [
    "pending/abc", "pending/0", "pending/-1", "pending/01",
    "pending/99999999999999999999", "pending/1/x", "pending/../pending/1",
    "pending/1 ", "pending", "other", "pending/2",
])
def test_malformed_pending_names_are_refused(new_user, dovecot, name):
    """Under the module's namespace only pending/<uid> of a message that
    waits for an answer can be set; everything else is NO, and nothing is
    stored. (UID 2 exists but has no entry.)"""
    user = dict_user(new_user, dovecot, **PROMPT)
    user.deliver(subject="waits")
    user.deliver(subject="asks nothing", dnt=None)
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        wait_until(lambda: getmetadata(conn, PENDING_PREFIX + "1")
                   is not None, scaled(5), what="the pending entry")
        before = metadata_tree(conn)
        entry = "%s/%s" % (VENDOR, name)
        typ, data = setmetadata(conn, '"%s"' % entry, "ignore")
        assert typ == "NO", (typ, data)
        assert metadata_tree(conn) == before
        # nothing was taken as an answer either
        assert "$MDNSent" not in fetch_flags(conn, "1")
    finally:
        conn.logout()


def test_other_vendors_keys_are_left_alone(new_user, dovecot):
    """A key that only starts with the same letters is not the module's."""
    user = dict_user(new_user, dovecot, **PROMPT)
    user.deliver()
    conn = user.imap()
    try:
        entry = "/private/vendor/vendor.readreceiptx/note"
        imap_check(setmetadata(conn, entry, "hello"))
        assert getmetadata(conn, entry) == "hello"
    finally:
        conn.logout()


def test_ten_thousand_answers_in_one_command(new_user, dovecot):
    """One SETMETADATA answering 10,000 pending entries: accepted, every
    message gets $MDNSent, every entry goes, one decision each."""
    n = 10000
    user = dict_user(new_user, dovecot, readreceipt_bulk_limit=str(n + 1),
                     **PROMPT)
    user.deliver(subject="first")
    conn = user.imap()
    try:
        fetch_body(conn, "1")
    finally:
        conn.logout()
    put_in_maildir(user, dovecot, [user.message(subject="bulk %d" % i)
                                   for i in range(n - 1)])

    conn = user.imap(mailbox=None)
    try:
        assert int(imap_check(conn.select("INBOX"))[0]) == n
        started = time.monotonic()
        imap_check(conn.store("1:*", "+FLAGS.SILENT", "(\\Seen)"))
        print("queueing %d prompts: %.2f s" % (n, time.monotonic() -
                                                started))
        wait_until(lambda: getmetadata(conn, PENDING_PREFIX + str(n))
                   is not None, scaled(30), what="the last entry")
        entries = " ".join('%s%d "ignore"' % (PENDING_PREFIX, uid)
                           for uid in range(1, n + 1))
        started = time.monotonic()
        typ, data = conn._simple_command("SETMETADATA", '"INBOX"',
                                         "(%s)" % entries)
        print("answering %d entries in one SETMETADATA: %.2f s" %
              (n, time.monotonic() - started))
        assert typ == "OK", data
        assert getmetadata(conn, PENDING_PREFIX + "1") is None
        assert getmetadata(conn, PENDING_PREFIX + str(n)) is None
        typ, data = conn.search(None, "UNKEYWORD", "$MDNSent")
        assert typ == "OK" and data[0].split() == [], data
    finally:
        conn.logout()
    answers = [d for d in user.decision_lines()
               if d.get("trigger") == "answer"]
    assert len(answers) == n
    assert {(d["decision"], d["reason"]) for d in answers} == \
        {("ignored", "user")}
