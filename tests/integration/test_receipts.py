"""Read receipts as a user and the requester see them.

A message from boss@example.com asking for a receipt is delivered over
LMTP and opened over IMAP (FETCH BODY[]) or POP3 (RETR). Each test checks
what arrived at the SMTP sink, the flags the server reports, and the
readreceipt_decision log line and exported event.

Unless a test says otherwise its user would get an automatic receipt
(mode internal, prompt no), so that a missing receipt is caused by the
one thing the test changes.

A receipt leaves after the command that caused it was answered (SPEC
§12): sessions stay open until the message's decision is logged, and the
decision "sent" is logged once the relay accepted the receipt.
"""

import os
import re
import socket
import threading
import time

import pytest

import rrharness
from rrharness import (DECISION_KEYS, disposition_fields, fetch_body,
                       fetch_flags, imap_check, normalize_ws,
                       scaled, strip_private, wait_until)

BOSS = "boss@example.com"
AUTO = {"readreceipt_mode": "internal", "readreceipt_prompt": "no"}
DNT_HEADER_RE = re.compile(rb"(?im)^disposition-notification-to:")


# ---------------------------------------------------------------- helpers

def only(items, what="item"):
    assert len(items) == 1, "expected exactly one %s, got %d: %r" % (
        what, len(items), items)
    return items[0]


def assert_decision(user, message_id, timeout=5, **expected):
    """Wait for the decision on message_id; check that the user has exactly
    one decision (line and event) and that it has the expected fields.
    Returns (line, event)."""
    lines, events = user.wait_decision(message_id, timeout=timeout)
    line = only(lines, "decision log line")
    event = only([strip_private(e) for e in events], "decision event")
    for name, value in expected.items():
        assert line.get(name) == str(value), \
            "log line %s=%r, expected %r: %s" % (name, line.get(name),
                                                 value, line["_line"])
        assert event.get(name) == str(value), \
            "event %s=%r, expected %r: %r" % (name, event.get(name),
                                              value, event)
    assert line["message_id"] == message_id
    assert event["message_id"] == message_id
    return line, event


def open_first(user, mailbox="INBOX", message_id=None):
    """Log in, open message 1 with FETCH BODY[], log out; returns the
    body the client got. message_id: log out only once the decision on
    it was logged (a receipt leaves after the FETCH was answered)."""
    conn = user.imap(mailbox)
    try:
        body = fetch_body(conn, "1")
        if message_id is not None:
            user.wait_decision(message_id)
        return body
    finally:
        conn.logout()


def deliver_and_open(user, **kwargs):
    mid = user.deliver(**kwargs)
    open_first(user, message_id=mid)
    return mid


def assert_no_receipt(user, message_id, **expected):
    line, event = assert_decision(user, message_id, **expected)
    assert user.receipts() == []
    return line, event


# ---------------------------------------------------------------- modes

def test_mode_disabled_sends_nothing(new_user):
    user = new_user(readreceipt_mode="disabled", readreceipt_prompt="no")
    mid = deliver_and_open(user)
    assert_no_receipt(user, mid, decision="suppressed",
                      reason="mode_disabled", trigger="open",
                      mode="disabled")
    flags = user.flags()
    assert "\\Seen" in flags
    assert "$MDNSent" not in flags


def test_internal_automatic_receipt(new_user, dovecot):
    user = new_user(**AUTO)
    mid = user.deliver(subject="Quarterly report")
    body = open_first(user, message_id=mid)
    assert b"Subject: Quarterly report" in body

    line, event = assert_decision(
        user, mid, decision="sent", reason="automatic", trigger="open",
        mode="internal", mailbox="INBOX", uid="1", recipient=BOSS)
    # the log line has exactly these keys, in this order
    assert tuple(k for k in line if not k.startswith("_")) == DECISION_KEYS
    assert line["_level"] == "Info"
    assert line["_service"] == "imap"
    events = user.decision_events()
    assert "readreceipt" in events[0]["_categories"]

    receipt = only(user.receipts(), "receipt")
    # envelope
    assert receipt.mail_from == ""
    assert receipt.rcpt_tos == [BOSS]
    mdn = receipt.msg
    # header
    assert mdn["From"].addresses[0].addr_spec == user.email
    assert [a.addr_spec for a in mdn["To"].addresses] == [BOSS]
    assert str(mdn["Subject"]) == "Read: Quarterly report"
    assert mdn["In-Reply-To"].strip() == mid
    assert mid in str(mdn["References"]).split()
    assert str(mdn["Auto-Submitted"]).strip().lower() == "auto-replied"
    assert mdn["Date"] is not None
    assert mdn["Message-ID"] is not None
    assert mdn["Message-ID"].strip() != mid
    assert str(mdn["MIME-Version"]).strip() == "1.0"
    assert mdn.get_content_type() == "multipart/report"
    assert mdn.get_param("report-type") == "disposition-notification"
    # parts: human-readable text, then the machine-readable report
    parts = mdn.get_payload()
    assert len(parts) == 2, [p.get_content_type() for p in parts]
    assert parts[0].get_content_type() == "text/plain"
    assert parts[0].get_content_charset().lower() == "utf-8"
    assert "displayed" in parts[0].get_content()
    assert parts[1].get_content_type() == \
        "message/disposition-notification"
    fields = disposition_fields(mdn)
    assert normalize_ws(fields["final-recipient"]).lower() == \
        "rfc822; " + user.email
    assert fields["original-message-id"].strip() == mid
    assert normalize_ws(fields["disposition"]).lower() == \
        "automatic-action/mdn-sent-automatically; displayed"
    # the default: "<hostname>; dovecot-readreceipt/<version>" (RFC 8098
    # 3.2.1: ua-name; ua-product)
    ua_name, _, ua_product = fields.get("reporting-ua", "").partition(";")
    assert ua_name.strip() != "", fields
    assert ua_product.strip() == \
        "dovecot-readreceipt/" + rrharness.project_version(), fields
    # the original had no Original-Recipient header
    assert "original-recipient" not in fields
    # a receipt never asks for a receipt
    assert not DNT_HEADER_RE.search(receipt.raw)

    flags = user.flags()
    assert {"\\Seen", "$MDNSent"} <= flags
    # nothing alarming in the log for this user
    assert not [l for l in dovecot.log_lines()
                if l.user == user.name and l.level in ("Warning", "Error")]


def test_subject_is_decoded_and_reencoded(new_user):
    user = new_user(**AUTO)
    mid = deliver_and_open(
        user, subject="=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=")
    assert_decision(user, mid, decision="sent")
    receipt = only(user.receipts(), "receipt")
    assert str(receipt.msg["Subject"]) == "Read: Grüße aus Köln"
    header_block = receipt.raw.split(b"\r\n\r\n", 1)[0]
    assert all(b < 0x80 for b in header_block), \
        "raw 8-bit in the receipt's header"


def test_optional_report_fields(new_user):
    # no Message-ID, but an Original-Recipient header
    user = new_user(**AUTO)
    raw = user.message(message_id="", extra_headers=[
        ("Original-Recipient", "rfc822; alias@example.com")])
    user.deliver(raw)
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        receipt = user.sink.wait_for(1, frm=user.email)[0]
    finally:
        conn.logout()
    fields = disposition_fields(receipt.msg)
    assert "original-message-id" not in fields
    assert normalize_ws(fields["original-recipient"]).lower() == \
        "rfc822; alias@example.com"
    assert receipt.msg["In-Reply-To"] is None
    wait_until(user.decision_lines, scaled(5), what="the decision line")
    line = only(user.decision_lines(), "decision line")
    assert line["decision"] == "sent"
    assert line["message_id"] == ""
    assert 'message_id=""' in line["_line"]


def test_quoted_local_part_survives(new_user):
    """A requester whose local part needs quotes gets the receipt: the
    relay sees the quoted path in RCPT TO, and the receipt's To: keeps
    the quotes."""
    requester = '"john doe"@example.org'
    user = new_user(readreceipt_allow="@example.org", **AUTO)
    mid = user.deliver(frm=requester, mail_from=requester)
    open_first(user, message_id=mid)
    assert_decision(user, mid, decision="sent", reason="automatic",
                    trigger="open")
    receipt = only(user.receipts_for(mid), "receipt")
    assert receipt.rcpt_args == ['<"john doe"@example.org>']
    assert receipt.rcpt_tos == [requester]
    header_block = receipt.raw.split(b"\r\n\r\n", 1)[0]
    to = re.search(rb"(?im)^To:((?:.*)(?:\r\n[ \t].*)*)", header_block)
    assert to is not None
    assert b'<"john doe"@example.org>' in to.group(1).replace(b"\r\n", b"")
    assert [a.addr_spec for a in receipt.msg["To"].addresses] == [requester]
    # the report names the user, not the requester
    fields = disposition_fields(receipt.msg)
    assert normalize_ws(fields["final-recipient"]).lower() == \
        "rfc822; " + user.email


def test_include_headers(new_user):
    user = new_user(readreceipt_include_headers="yes", **AUTO)
    mid = deliver_and_open(user)
    assert_decision(user, mid, decision="sent")
    receipt = only(user.receipts(), "receipt")
    parts = receipt.msg.get_payload()
    assert [p.get_content_type() for p in parts] == [
        "text/plain", "message/disposition-notification",
        "text/rfc822-headers"]
    headers = parts[2].get_payload(decode=True)
    assert b"Subject: Quarterly report" in headers
    assert mid.encode() in headers
    # the original's body is not included
    assert b"please confirm" not in headers


def test_mailbox_name_with_space_is_quoted(new_user):
    user = new_user(readreceipt_exclude="\\Junk", **AUTO)
    mid = user.deliver()
    conn = user.imap()
    imap_check(conn.create('"Project X"'))
    imap_check(conn.copy("1", '"Project X"'))
    imap_check(conn.select('"Project X"'))
    fetch_body(conn, "1")
    conn.logout()
    line, event = assert_decision(user, mid, decision="sent",
                                  mailbox="Project X")
    assert ' mailbox="Project X" ' in line["_line"]


def test_reopening_never_sends_a_second_receipt(new_user):
    user = new_user(**AUTO)
    mid = user.deliver()
    conn = user.imap()
    fetch_body(conn, "1")
    user.wait_decision(mid)
    imap_check(conn.store("1", "-FLAGS", "(\\Seen)"))
    fetch_body(conn, "1")
    conn.logout()
    user.marker()
    receipts = [r for r in user.receipts()
                if r.msg["In-Reply-To"].strip() == mid]
    assert len(receipts) == 1
    reopened = [d for d in user.decision_lines() if d["message_id"] == mid]
    assert reopened[0]["decision"] == "sent"
    assert [d["decision"] for d in reopened[1:]] in ([], ["suppressed"])
    assert all(d["reason"] == "already_sent" for d in reopened[1:])


def test_mode_any_defers_but_no_queue(new_user):
    # mode any always asks; a plain IMAP session cannot ask, and without
    # an attribute dict nothing can be queued for a client that can
    user = new_user(readreceipt_mode="any")
    mid = deliver_and_open(user)
    assert_no_receipt(user, mid, decision="failed",
                      reason="no_attribute_dict", trigger="open",
                      mode="any")


def test_mode_any_unprompted_send(new_user):
    user = new_user(readreceipt_mode="any", readreceipt_unprompted="send")
    mid = deliver_and_open(user)
    assert_decision(user, mid, decision="sent", reason="unprompted_send",
                    trigger="open", mode="any", recipient=BOSS)
    receipt = only(user.receipts(), "receipt")
    assert receipt.rcpt_tos == [BOSS]
    assert "$MDNSent" in user.flags()


@pytest.mark.parametrize("unprompted,decision,reason,receipts", [
    ("ignore", "ignored", "unprompted", 0),
    ("send", "sent", "unprompted_send", 1),
])
def test_internal_prompt_default_unprompted(new_user, unprompted, decision,
                                            reason, receipts):
    # readreceipt_prompt is left at its default (yes)
    user = new_user(readreceipt_mode="internal",
                    readreceipt_unprompted=unprompted)
    mid = deliver_and_open(user)
    assert_decision(user, mid, decision=decision, reason=reason,
                    trigger="open", mode="internal")
    assert len(user.receipts()) == receipts


# ---------------------------------------------------------------- policy

@pytest.mark.parametrize("settings,sender,decision,reason", [
    ({"readreceipt_allow": "partner@other.org"}, "partner@other.org",
     "sent", "automatic"),
    ({"readreceipt_allow": "@other.org"}, "anyone@other.org",
     "sent", "automatic"),
    ({"readreceipt_allow": "partner@other.org,@third.net"},
     "stranger@other.org", "suppressed", "recipient_not_allowed"),
    ({}, "partner@other.org", "suppressed", "recipient_not_allowed"),
    ({"readreceipt_domains": ".example.com"}, "boss@sales.example.com",
     "sent", "automatic"),
    ({"readreceipt_domains": "example.com"}, "boss@sales.example.com",
     "suppressed", "recipient_not_allowed"),
    ({}, "Boss@EXAMPLE.COM", "sent", "automatic"),
], ids=["allow-address", "allow-domain", "not-allowed", "external-default",
        "subdomain-dot", "subdomain-no-dot", "domain-case"])
def test_internal_recipient_policy(new_user, settings, sender, decision,
                                   reason):
    user = new_user(**AUTO, **settings)
    mid = deliver_and_open(user, frm=sender)
    assert_decision(user, mid, decision=decision, reason=reason,
                    trigger="open")
    receipts = user.receipts()
    if decision == "sent":
        receipt = only(receipts, "receipt")
        assert [r.lower() for r in receipt.rcpt_tos] == [sender.lower()]
        assert "$MDNSent" in user.flags()
    else:
        assert receipts == []
        assert "$MDNSent" not in user.flags()


def test_peek_does_not_trigger(new_user):
    user = new_user(**AUTO)
    mid = user.deliver()
    conn = user.imap()
    fetch_body(conn, "1", peek=True)
    assert "\\Seen" not in fetch_flags(conn, "1")
    assert "\\Seen" not in user.flags()
    assert user.receipts() == []
    # now open it for real: the only decision is this one
    fetch_body(conn, "1")
    conn.logout()
    assert_decision(user, mid, decision="sent", trigger="open")
    only(user.receipts(), "receipt")


def test_store_seen_on_one_message_is_open(new_user):
    user = new_user(**AUTO)
    mid = user.deliver()
    conn = user.imap()
    imap_check(conn.store("1", "+FLAGS", "(\\Seen)"))
    conn.logout()
    assert_decision(user, mid, decision="sent", reason="automatic",
                    trigger="open")
    only(user.receipts(), "receipt")
    assert {"\\Seen", "$MDNSent"} <= user.flags()


def test_store_seen_on_many_messages_is_mark_as_read(new_user):
    user = new_user(readreceipt_bulk_limit=1, **AUTO)
    for i in range(3):
        user.deliver(subject="report %d" % i)
    conn = user.imap()
    imap_check(conn.store("1:3", "+FLAGS", "(\\Seen)"))
    marker = user.marker(conn)
    conn.logout()
    lines = user.decision_lines()
    events = [strip_private(e) for e in user.decision_events()]
    assert len(lines) == 2, lines
    assert len(events) == 2, events
    for bulk in (lines[0], events[0]):
        assert bulk["decision"] == "suppressed", bulk
        assert bulk["reason"] == "bulk", bulk
        assert bulk["trigger"] == "mark", bulk
    assert lines[1]["message_id"] == marker
    # only the marker got a receipt
    assert [r.msg["In-Reply-To"].strip() for r in user.receipts()] == \
        [marker]
    flags = user.all_flags()
    for seq in (1, 2, 3):
        assert "\\Seen" in flags[seq]
        assert "$MDNSent" not in flags[seq]


# ---------------------------------------------------------------- POP3

def test_pop3_retr_and_quit(new_user):
    user = new_user(**AUTO)
    mid = user.deliver()
    pop = user.pop3()
    resp, lines, _ = pop.retr(1)
    assert any(b"Quarterly report" in l for l in lines)
    pop.quit()
    assert_decision(user, mid, decision="sent", reason="automatic",
                    trigger="pop3", mailbox="INBOX")
    receipt = only(user.receipts(), "receipt")
    assert receipt.rcpt_tos == [BOSS]
    assert {"\\Seen", "$MDNSent"} <= user.flags()


def test_pop3_retr_then_disconnect(new_user):
    user = new_user(**AUTO)
    mid = user.deliver()
    pop = user.pop3()
    pop.retr(1)
    # drop the connection without QUIT
    pop.sock.shutdown(socket.SHUT_RDWR)
    pop.close()
    assert_decision(user, mid, decision="sent", trigger="pop3")
    only(user.receipts(), "receipt")
    assert "$MDNSent" in user.flags()


# ---------------------------------------------------------------- eligibility

@pytest.mark.parametrize("header", [
    ("List-Id", "Staff <staff.example.com>"),
    ("List-Unsubscribe", "<mailto:staff-leave@example.com>"),
    ("Precedence", "bulk"),
    ("Precedence", "list"),
    ("Precedence", "junk"),
], ids=lambda h: "%s-%s" % (h[0], h[1].split()[0].strip("<>")))
def test_list_mail_is_suppressed(new_user, header):
    user = new_user(**AUTO)
    mid = deliver_and_open(user, extra_headers=[header])
    assert_no_receipt(user, mid, decision="suppressed",
                      reason="mailing_list")


@pytest.mark.parametrize("to,cc,decision,reason", [
    ("team@example.com", None, "suppressed", "not_addressed_to_user"),
    ("team@example.com", "carol@example.com", "suppressed",
     "not_addressed_to_user"),
    ("team@example.com", "SELF", "sent", "automatic"),
    ("team@example.com, SELF", None, "sent", "automatic"),
], ids=["alias", "alias-cc-other", "cc-self", "to-among-others"])
def test_addressed_to_user(new_user, to, cc, decision, reason):
    user = new_user(**AUTO)
    to = to.replace("SELF", user.email)
    cc = cc.replace("SELF", user.email) if cc else None
    mid = deliver_and_open(user, to=to, cc=cc)
    assert_decision(user, mid, decision=decision, reason=reason)
    assert len(user.receipts()) == (1 if decision == "sent" else 0)


@pytest.mark.parametrize("value,decision,reason", [
    ("auto-generated", "suppressed", "auto_submitted"),
    ("auto-replied", "suppressed", "auto_submitted"),
    ("no", "sent", "automatic"),
])
def test_auto_submitted(new_user, value, decision, reason):
    user = new_user(**AUTO)
    mid = deliver_and_open(user, extra_headers=[("Auto-Submitted", value)])
    assert_decision(user, mid, decision=decision, reason=reason)
    assert len(user.receipts()) == (1 if decision == "sent" else 0)


def test_report_is_never_answered(new_user):
    user = new_user(**AUTO)
    boundary = "rep-boundary-1"
    body = (
        "--%(b)s\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "The message was displayed.\n"
        "--%(b)s\n"
        "Content-Type: message/disposition-notification\n\n"
        "Final-Recipient: rfc822; carol@example.com\n"
        "Original-Message-ID: <orig@example.com>\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\n"
        "--%(b)s--\n") % {"b": boundary}
    mid = deliver_and_open(
        user, subject="Read: hello", body=body,
        content_type='multipart/report; report-type='
                     'disposition-notification; boundary="%s"' % boundary)
    assert_no_receipt(user, mid, decision="suppressed", reason="report")


def test_own_message(new_user):
    user = new_user(**AUTO)
    mid = deliver_and_open(user, frm=user.email)
    assert_no_receipt(user, mid, decision="suppressed",
                      reason="own_message")


def test_required_unknown_option_is_invalid_request(new_user):
    user = new_user(**AUTO)
    mid = deliver_and_open(user, extra_headers=[
        ("Disposition-Notification-Options",
         "x-unknown-feature=required,yes")])
    assert_no_receipt(user, mid, decision="suppressed",
                      reason="invalid_request")


# ---------------------------------------------------------------- consent

@pytest.mark.parametrize("mail_from", ["bounces@example.com", ""],
                         ids=["differs", "null"])
def test_return_path_mismatch_needs_consent(new_user, mail_from):
    user = new_user(readreceipt_unprompted="send", **AUTO)
    mid = user.deliver(mail_from=mail_from)
    open_first(user, message_id=mid)
    # it would wait for the user's consent; this user has no attribute
    # dict to keep it in (test_queue.py covers the queued case)
    assert_no_receipt(user, mid, decision="failed",
                      reason="no_attribute_dict", trigger="open")


def test_two_requested_addresses_need_consent(new_user):
    user = new_user(readreceipt_unprompted="send", **AUTO)
    mid = deliver_and_open(user, dnt=[BOSS, "assistant@example.com"])
    assert_no_receipt(user, mid, decision="failed",
                      reason="no_attribute_dict")


# ---------------------------------------------------------------- mailboxes

def test_junk_mailbox_is_excluded(new_user):
    user = new_user(**AUTO)
    mid = user.deliver()
    conn = user.imap()
    imap_check(conn.copy("1", "Junk"))
    imap_check(conn.select("Junk"))
    fetch_body(conn, "1")
    conn.logout()
    assert_no_receipt(user, mid, decision="suppressed",
                      reason="excluded_mailbox", mailbox="Junk")
    assert "$MDNSent" not in user.flags(mailbox="Junk")
    # the copy left the INBOX message untouched
    assert "\\Seen" not in user.flags(mailbox="INBOX")


def test_already_sent_is_not_sent_again(new_user):
    user = new_user(**AUTO)
    conn = user.imap()
    raw = user.message(return_path=BOSS)
    appended = user.append(conn, raw, flags="($MDNSent)")
    stored = user.deliver()
    imap_check(conn.noop())
    imap_check(conn.store("2", "+FLAGS", "($MDNSent)"))
    fetch_body(conn, "1")
    fetch_body(conn, "2")
    conn.logout()
    lines, events = user.wait_decision(stored)
    lines, events = user.wait_decision(appended)
    assert len(lines) == 2 and len(events) == 2, (lines, events)
    for d in lines + [strip_private(e) for e in events]:
        assert d["decision"] == "suppressed", d
        assert d["reason"] == "already_sent", d
    assert user.receipts() == []


def test_append_never_triggers(new_user):
    user = new_user(**AUTO)
    conn = user.imap()
    appended = user.append(conn, user.message(return_path=BOSS),
                           flags="(\\Seen)")
    marker = user.marker(conn)
    conn.logout()
    assert [d["message_id"] for d in user.decision_lines()] == [marker]
    assert [r.msg["In-Reply-To"].strip() for r in user.receipts()] == \
        [marker]
    assert appended != marker


def test_delivery_never_triggers(new_user, dovecot):
    # a Sieve script marks the message \Seen while it is delivered
    user = new_user(**AUTO)
    dovecot.write_user_file(user.name, ".dovecot.sieve",
                            'require "imap4flags";\naddflag "\\\\Seen";\n')
    mid = user.deliver()
    assert "\\Seen" in user.flags()
    # the marker must arrive unseen
    for name in (".dovecot.sieve", ".dovecot.svbin"):
        path = os.path.join(dovecot.home(user.name), name)
        if os.path.exists(path):
            os.unlink(path)
    marker = user.marker()
    assert [d["message_id"] for d in user.decision_lines()] == [marker]
    assert [e["message_id"] for e in user.decision_events()] == [marker]
    assert [r.msg["In-Reply-To"].strip() for r in user.receipts()] == \
        [marker]
    assert "$MDNSent" not in user.flags("1")
    assert mid != marker


# ---------------------------------------------------------------- settings

def test_userdb_overrides_global_mode(new_user):
    enabled = new_user(**AUTO)
    plain = new_user(prefix="bob")
    mid1 = deliver_and_open(enabled)
    mid2 = deliver_and_open(plain)
    assert_decision(enabled, mid1, decision="sent", mode="internal")
    only(enabled.receipts(), "receipt")
    assert_no_receipt(plain, mid2, decision="suppressed",
                      reason="mode_disabled", mode="disabled")


TOO_MANY = ",".join("p%d@other.org" % i for i in range(101))


@pytest.mark.parametrize("allow,named", [
    (TOO_MANY, "p100@other.org"),
    ("ok@other.org,not-an-address", "not-an-address"),
    ("x" * 300 + "@other.org", "x" * 40),
], ids=["101-entries", "unparsable", "too-long"])
def test_invalid_allow_list_disables_receipts_only(new_user, dovecot, allow,
                                                   named):
    user = new_user(readreceipt_allow=allow, **AUTO)
    mid = user.deliver(subject="still readable")
    body = open_first(user, message_id=mid)
    assert b"Subject: still readable" in body
    assert_no_receipt(user, mid, decision="suppressed",
                      reason="invalid_settings")
    errors = [l for l in dovecot.log_lines()
              if l.user == user.name and l.level in ("Error", "Warning")
              and "readreceipt_allow" in l.text]
    assert errors, "no Error/Warning naming readreceipt_allow"
    assert any(named in l.text for l in errors), errors


# ---------------------------------------------------------------- relay

def open_timed(user, **kwargs):
    mid = user.deliver(**kwargs)
    conn = user.imap()
    start = time.monotonic()
    body = fetch_body(conn, "1")
    elapsed = time.monotonic() - start
    return mid, conn, body, elapsed


def test_relay_refuses_connections(new_user, refused_port):
    """The FETCH does not wait for the relay; the receipt stays owed
    (recorded with $MDNSent, retried later: test_outbox.py), nothing is
    sent and it is not a permanent failure."""
    user = new_user(readreceipt_submission_host="127.0.0.1:%d" % refused_port,
                    **AUTO)
    mid, conn, body, elapsed = open_timed(user)
    assert b"Quarterly report" in body
    assert elapsed < scaled(3), elapsed
    imap_check(conn.noop())
    line, _ = assert_decision(user, mid, decision="queued", reason="retry",
                              trigger="open")
    conn.logout()
    assert user.receipts() == []
    assert {"\\Seen", "$MDNSent"} <= user.flags()


def test_relay_never_answers(new_user, hang_sink):
    before = len(hang_sink.connections())
    user = new_user(readreceipt_submission_host=hang_sink.address,
                    readreceipt_submission_timeout=2, **AUTO)
    mid, conn, body, elapsed = open_timed(user)
    assert b"Quarterly report" in body
    # answered before the relay was even tried
    assert elapsed < scaled(1.5), elapsed
    # the session is still usable
    imap_check(conn.noop())
    assert fetch_flags(conn, "1") >= {"\\Seen", "$MDNSent"}
    # the process gives up after readreceipt_submission_timeout
    line, _ = assert_decision(user, mid, timeout=10, decision="queued",
                              reason="retry", trigger="open")
    conn.logout()
    assert len(hang_sink.connections()) > before, \
        "the plugin never connected to the relay"
    assert user.receipts() == []


def test_relay_rejects_permanently(new_user, reject_sink, dovecot):
    before = len(reject_sink.rejected())
    user = new_user(readreceipt_submission_host=reject_sink.address, **AUTO)
    mid = deliver_and_open(user)
    line, _ = assert_decision(user, mid, decision="failed",
                              reason="permanent_failure", trigger="open")
    rejected = reject_sink.rejected()[before:]
    assert [r["rcpt_to"] for r in rejected] == [BOSS]
    assert rejected[0]["mail_from"] == ""
    assert any("550" in l.text for l in dovecot.log_lines()
               if l.user == user.name), "the 550 reply is not logged"
    # not retried: the next session does not try again
    user.marker()
    assert len(reject_sink.rejected()) == before + 2  # the marker's own
    assert [d["decision"] for d in user.decision_lines()
            if d["message_id"] == mid] == ["failed"]


# ---------------------------------------------------------------- concurrency

@pytest.mark.parametrize("lock_method", [None, "flock", "dotlock"])
def test_concurrent_opens_send_one_receipt(new_user, lock_method):
    settings = dict(AUTO)
    if lock_method is not None:
        # a userdb field of a core setting's name overrides it
        settings["lock_method"] = lock_method
    user = new_user(**settings)
    count = 5
    mids = [user.deliver(subject="report %d" % i) for i in range(count)]
    conns = [user.imap(), user.imap()]
    barrier = threading.Barrier(2, timeout=scaled(10))
    errors = []

    def reader(conn):
        try:
            for seq in range(1, count + 1):
                barrier.wait()
                fetch_body(conn, str(seq))
        except Exception as e:  # reported below
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=reader, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(scaled(30))
    try:
        assert not errors, errors
        # the receipts leave after the FETCHes were answered; whichever
        # session lost a race logs already_sent before they arrive
        user.wait_receipts(count)
    finally:
        for c in conns:
            c.logout()
    # decisions and receipts of both sessions are complete after it
    user.marker()
    receipts = [r for r in user.receipts()
                if r.msg["In-Reply-To"].strip() in mids]
    answered = sorted(r.msg["In-Reply-To"].strip() for r in receipts)
    assert answered == sorted(mids)
    sent = [d["message_id"] for d in user.decision_lines()
            if d["decision"] == "sent" and d["message_id"] in mids]
    assert sorted(sent) == sorted(mids)
    for seq, flags in user.all_flags().items():
        assert "$MDNSent" in flags, (seq, flags)
    # the user's lock file stays between locks, except a dotlock
    lock_path = os.path.join(user.dovecot.home(user.name),
                             "dovecot-readreceipt.lock")
    assert os.path.exists(lock_path) == (lock_method != "dotlock")
