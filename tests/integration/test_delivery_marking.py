"""readreceipt_hide_forbidden: what RFC 3503 clients see after delivery.

Clients such as Roundcube and Thunderbird offer to send a receipt for an
unseen message that asks for one and lacks $MDNSent. A message whose
receipt the policy forbids is therefore saved with $MDNSent when LMTP (or
LDA) delivers it, and one readreceipt_decision event with trigger
"delivery" records why. The conftest turns the setting off globally; each
test here turns it on for its own user.
"""

import os
import re
import smtplib
import subprocess

import pytest

from rrharness import (fetch_body, fetch_flags, imap_check, scaled,
                       strip_private, wait_until)

BOSS = "boss@example.com"
AUTO = {"readreceipt_mode": "internal", "readreceipt_prompt": "no"}
HIDE = {"readreceipt_hide_forbidden": "yes"}
MDN_BODY = (
    "--b1\n"
    "Content-Type: text/plain; charset=utf-8\n\n"
    "The message was displayed.\n"
    "--b1\n"
    "Content-Type: message/disposition-notification\n\n"
    "Final-Recipient: rfc822; carol@example.com\n"
    "Disposition: manual-action/MDN-sent-manually; displayed\n"
    "--b1--\n")
# the trace fields LMTP puts on top of what it stores
TRACE_RE = re.compile(
    rb"\A(?:(?:Return-Path|Delivered-To|Received):[^\r\n]*\r\n"
    rb"(?:[ \t][^\r\n]*\r\n)*)+")


def only(items, what="item"):
    assert len(items) == 1, "expected exactly one %s, got %d: %r" % (
        what, len(items), items)
    return items[0]


def flags(user, seq="1", mailbox="INBOX"):
    """Flags as an RFC 3503 client sees them (\\Recent aside)."""
    return user.flags(seq, mailbox) - {"\\Recent"}


def all_flags(user, mailbox="INBOX"):
    return {seq: f - {"\\Recent"}
            for seq, f in user.all_flags(mailbox).items()}


def delivery_decision(user, message_id):
    """Wait for the delivery's decision line and event; check that they
    agree and are the only ones of the user. Returns the event fields."""
    lines, events = user.wait_decision(message_id)
    line = only(lines, "decision line")
    event = strip_private(only(events, "decision event"))
    for key in ("decision", "reason", "trigger", "mode", "mailbox", "uid",
                "message_id", "recipient"):
        assert line[key] == event.get(key, ""), (key, line, event)
    assert line["_service"] == "lmtp", line
    return event


def stored_messages(user, mailbox="INBOX"):
    """[(flags, bytes)] of every message as IMAP shows it, in one
    read-only session (nothing changes)."""
    conn = user.imap(mailbox=None)
    try:
        count = int(imap_check(conn.select(mailbox, readonly=True))[0])
        return [(fetch_flags(conn, str(seq)) - {"\\Recent"},
                 fetch_body(conn, str(seq), peek=True))
                for seq in range(1, count + 1)]
    finally:
        conn.logout()


def without_trace(stored):
    m = TRACE_RE.match(stored)
    assert m is not None, stored[:300]
    return stored[m.end():]


FORBIDDEN = [
    # (id, settings, message arguments, reason)
    ("mode-disabled", {"readreceipt_mode": "disabled"}, {},
     "mode_disabled"),
    ("recipient-not-allowed", AUTO, {"frm": "ceo@outside.example"},
     "recipient_not_allowed"),
    ("mailing-list", AUTO,
     {"extra_headers": [("List-Id", "Staff <staff.example.com>")]},
     "mailing_list"),
    ("not-addressed-to-user", AUTO, {"to": "team@example.com"},
     "not_addressed_to_user"),
    ("auto-submitted", AUTO,
     {"extra_headers": [("Auto-Submitted", "auto-generated")]},
     "auto_submitted"),
    ("report", AUTO,
     {"subject": "Read: hello", "body": MDN_BODY,
      "content_type": "multipart/report; "
                      "report-type=disposition-notification; boundary=b1"},
     "report"),
    ("invalid-request", AUTO,
     {"extra_headers": [("Disposition-Notification-To",
                         "assistant@example.com")]},
     "invalid_request"),
    ("own-message", AUTO, {"frm": "SELF"}, "own_message"),
    ("invalid-settings", {"readreceipt_mode": "sometimes"}, {},
     "invalid_settings"),
]


@pytest.mark.parametrize("settings,message,reason",
                         [f[1:] for f in FORBIDDEN],
                         ids=[f[0] for f in FORBIDDEN])
def test_forbidden_request_is_saved_with_mdnsent(new_user, settings,
                                                  message, reason):
    user = new_user(**HIDE, **settings)
    message = dict(message)
    if message.get("frm") == "SELF":
        message["frm"] = user.email
    requester = message.get("frm", BOSS)
    mid = user.deliver(**message)

    # what an RFC 3503 client sees: unseen, and no receipt to offer
    conn = user.imap()
    assert fetch_flags(conn) - {"\\Recent"} == {"$MDNSent"}
    event = delivery_decision(user, mid)
    assert event["decision"] == "suppressed"
    assert event["reason"] == reason
    assert event["trigger"] == "delivery"
    assert event["mailbox"] == "INBOX"
    assert event["uid"] == "1"
    assert event["message_id"] == mid
    if reason not in ("invalid_request",):
        assert event["recipient"] == requester
    assert event["mode"] == settings["readreceipt_mode"] \
        if reason != "invalid_settings" else event["mode"] == "disabled"

    # opening it sends nothing either
    fetch_body(conn, "1")
    conn.logout()
    lines, _ = user.wait_decision(mid, extra=lambda: len(
        user.decision_lines()) >= 2)
    assert lines[-1]["reason"] == "already_sent"
    assert user.receipts() == []


def test_allowed_request_is_untouched(new_user):
    user = new_user(**HIDE, **AUTO)
    mid = user.deliver()
    # a second, forbidden one shows that the delivery was judged
    marker = user.deliver(extra_headers=[("Precedence", "bulk")])
    delivery_decision(user, marker)
    assert all_flags(user) == {1: set(), 2: {"$MDNSent"}}
    assert [d["message_id"] for d in user.decision_lines()] == [marker]

    # the server still sends the receipt when the user opens it
    conn = user.imap()
    fetch_body(conn, "1")
    conn.logout()
    lines, _ = user.wait_decision(mid)
    assert lines[-1]["decision"] == "sent"
    assert len(user.receipts()) == 1


def test_message_without_request_is_stored_as_without_the_module(
        new_user, dovecot):
    hidden = new_user(**HIDE)
    # mail_plugins from the userdb: no readreceipt for this user at all
    plain = new_user(prefix="bob", mail_plugins="notify", **HIDE)
    raw = hidden.message(dnt=None, to=[hidden.email, plain.email])
    hidden.deliver(raw)
    plain.deliver(raw)

    # the module really is absent for the second user: a forbidden
    # request stays unmarked there
    plain.deliver(plain.message(subject="request"))

    [(hidden_flags, stored_hidden)] = stored_messages(hidden)
    [(plain_flags, stored_plain), (request_flags, _)] = \
        stored_messages(plain)
    assert without_trace(stored_hidden) == raw
    assert without_trace(stored_plain) == raw
    assert hidden_flags == plain_flags == request_flags == set()
    assert hidden.decision_lines() == []


def lmtp_send(dovecot, mail_from, rcpts, raw):
    """One LMTP transaction to several recipients; returns the reply
    codes after DATA, one per recipient."""
    with smtplib.LMTP("127.0.0.1", dovecot.lmtp_port,
                      timeout=scaled(10)) as lmtp:
        assert lmtp.mail(mail_from)[0] == 250
        for rcpt in rcpts:
            assert lmtp.rcpt(rcpt)[0] == 250
        codes = [lmtp.data(raw)[0]]
        # smtplib reads the first recipient's reply to DATA only
        codes += [lmtp.getreply()[0] for _ in rcpts[1:]]
    return codes


def test_one_lmtp_transaction_judges_each_recipient(new_user, dovecot):
    # the second recipient's copy is made from the first one's saved
    # message: its keywords must not carry over, in either order
    hidden = new_user(**HIDE)                       # mode disabled
    allowed = new_user(prefix="bob", **HIDE, **AUTO)
    unset = new_user(prefix="carol", **AUTO)
    rcpts = [hidden.name, allowed.name, unset.name]
    for n, order in enumerate((rcpts, list(reversed(rcpts))), 1):
        raw = hidden.message(to=rcpts, subject="message %d" % n)
        for user in (hidden, allowed, unset):
            dovecot.note_message(user.name, raw)
        assert lmtp_send(dovecot, BOSS, order, raw) == [250] * 3
    assert all_flags(hidden) == {1: {"$MDNSent"}, 2: {"$MDNSent"}}
    assert all_flags(allowed) == {1: set(), 2: set()}
    assert all_flags(unset) == {1: set(), 2: set()}
    wait_until(lambda: len(hidden.decision_lines()) == 2, scaled(5),
               what="two delivery decisions")
    assert allowed.decision_lines() == [] and unset.decision_lines() == []


def test_sieve_keywords_are_kept(new_user, dovecot):
    user = new_user(**HIDE)
    dovecot.write_user_file(user.name, ".dovecot.sieve",
                            'require "imap4flags";\naddflag "$label1";\n')
    mid = user.deliver()
    assert flags(user) == {"$label1", "$MDNSent"}
    delivery_decision(user, mid)


def test_sieve_mdnsent_needs_no_decision(new_user, dovecot):
    user = new_user(**HIDE)
    dovecot.write_user_file(user.name, ".dovecot.sieve",
                            'require "imap4flags";\naddflag "$MDNSent";\n')
    user.deliver()
    for name in (".dovecot.sieve", ".dovecot.svbin"):
        path = os.path.join(dovecot.home(user.name), name)
        if os.path.exists(path):
            os.unlink(path)
    marker = user.deliver(extra_headers=[("Precedence", "list")])
    # the marker's decision is the only one
    delivery_decision(user, marker)
    assert all_flags(user) == {1: {"$MDNSent"}, 2: {"$MDNSent"}}


def test_fileinto_excluded_mailbox_is_not_marked(new_user, dovecot):
    # readreceipt_exclude is about where a message is, not what it asks:
    # moved back to INBOX it may still get its receipt
    user = new_user(**HIDE, **AUTO)
    dovecot.write_user_file(user.name, ".dovecot.sieve",
                            'require "fileinto";\nfileinto "Junk";\n')
    user.deliver()
    assert flags(user, mailbox="Junk") == set()
    assert user.decision_lines() == []


def test_lda_delivery_is_marked(new_user, dovecot):
    user = new_user(**HIDE)
    raw = user.message()
    dovecot.note_message(user.name, raw)
    res = subprocess.run(
        ["/usr/lib/dovecot/dovecot-lda", "-c", dovecot.config_path,
         "-d", user.name, "-f", BOSS],
        input=raw, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        timeout=scaled(30))
    assert res.returncode == 0, res.stdout
    assert flags(user) == {"$MDNSent"}
    lines, events = user.wait_decision(
        user.dovecot.message_ids[user.name].copy().pop())
    line = only(lines, "decision line")
    assert line["_service"] == "lda"
    assert line["trigger"] == "delivery"
    assert line["reason"] == "mode_disabled"
