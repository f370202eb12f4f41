"""submission_readreceipt: receipts and receipt requests that clients send.

Roundcube, Thunderbird and other clients build receipts themselves and send
them through the submission service, usually with the null sender. Each
test logs in to Dovecot's submission service as its own user, sends a
message, and checks the reply, what arrived at the SMTP sink that the
service relays to, and the readreceipt_submission log line and event.
"""

import re
import smtplib
import uuid

import pytest

from rrharness import SUBMISSION_KEYS, make_message, scaled, wait_until

BOSS = "boss@example.com"
OUTSIDE = "ceo@outside.example"
PARTNER = "partner@outside.example"
AUTO = {"readreceipt_mode": "internal", "readreceipt_prompt": "no"}
DISABLED_SENTENCE = "Read receipts are disabled for this account"
REQUEST_SENTENCE = ("Read receipt requests (Disposition-Notification-To) "
                    "are disabled for this account")
# what Dovecot's submission service puts on top of what it relays
RECEIVED_RE = re.compile(rb"\AReceived:[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*")
DNT_RE = re.compile(rb"(?im)^disposition-notification-to:")


def only(items, what="item"):
    assert len(items) == 1, "expected exactly one %s, got %d: %r" % (
        what, len(items), items)
    return items[0]


def receipt(user, to, content_type=None, body=None, extra_headers=()):
    """A receipt as a client builds it (RFC 8098), with a unique
    Message-ID."""
    if body is None:
        body = (
            "--rr-b1\n"
            "Content-Type: text/plain; charset=utf-8\n\n"
            "The message sent on Monday to %(user)s was displayed.\n"
            "--rr-b1\n"
            "Content-Type: message/disposition-notification\n\n"
            "Reporting-UA: webmail.example.com; Roundcube Webmail\n"
            "Final-Recipient: rfc822; %(user)s\n"
            "Original-Message-ID: <orig@example.com>\n"
            "Disposition: manual-action/MDN-sent-manually; displayed\n"
            "--rr-b1--\n") % {"user": user.email}
    if content_type is None:
        content_type = ('multipart/report; '
                        'report-type=disposition-notification;\r\n'
                        '\tboundary="rr-b1"')
    return make_message(user.email, to, "Read: Quarterly report", dnt=None,
                        content_type=content_type, body=body,
                        extra_headers=extra_headers)


def message_id(raw):
    return re.search(rb"(?im)^Message-ID: (<[^>]*>)", raw).group(1)


def relayed(sink, raw, timeout=5):
    """The one message at the sink that has raw's Message-ID."""
    mid = message_id(raw)
    wait_until(lambda: sink.find(mid), scaled(timeout),
               what="%s at the sink" % mid.decode())
    return only(sink.find(mid), "relayed message")


def assert_relayed_as(sink_msg, expected):
    """The sink got expected byte for byte, after the Received field that
    the submission service adds."""
    m = RECEIVED_RE.match(sink_msg.raw)
    assert m is not None, sink_msg.raw[:300]
    assert sink_msg.raw[m.end():] == expected


def assert_nothing_relayed(sink, raw, dovecot):
    # the refusal was logged after the relay had its chance
    assert sink.find(message_id(raw)) == []


def submission_decision(user, n=1, timeout=5):
    """Wait for n readreceipt_submission lines and events of the user;
    check that they agree. Returns the last event's fields."""
    def enough():
        return (len(user.submission_lines()) >= n and
                len(user.submission_events()) >= n)
    wait_until(enough, scaled(timeout), what="%d submission decision(s)" % n)
    lines, events = user.submission_lines(), user.submission_events()
    assert len(lines) == n and len(events) == n, (lines, events)
    line, event = lines[-1], events[-1]
    assert tuple(k for k in line if not k.startswith("_")) == SUBMISSION_KEYS
    for key in SUBMISSION_KEYS:
        assert line[key] == event.get(key, ""), (key, line, event)
    assert line["_service"] == "submission"
    assert "readreceipt" in event["_categories"]
    return event


def dnt_message(user, extra_headers=(), **kwargs):
    """An ordinary message from the user that asks for a receipt, with a
    folded Disposition-Notification-To in the middle of the header."""
    headers = [("Disposition-Notification-To",
                "Alice\r\n\t<%s>" % user.email),
               ("X-Mailer", "Test Client 1.0")] + list(extra_headers)
    return make_message(user.email, BOSS, "Lunch?", dnt=None,
                        extra_headers=headers, **kwargs)


def without_dnt(raw):
    return re.sub(rb"(?im)^Disposition-Notification-To:[^\r\n]*\r\n"
                  rb"(?:[ \t][^\r\n]*\r\n)*", b"", raw)


# ---------------------------------------------------------------- receipts

@pytest.mark.parametrize("settings,to", [
    (AUTO, BOSS),
    (dict(AUTO, readreceipt_allow=PARTNER), PARTNER),
    ({"readreceipt_mode": "any"}, OUTSIDE),
], ids=["internal", "allow-list", "mode-any"])
def test_allowed_receipt_is_relayed_unchanged(new_user, sink, settings, to):
    user = new_user(**settings)
    raw = receipt(user, to)
    code, text = user.submit(raw, [to], mail_from="")
    assert code == 250, text
    got = relayed(sink, raw)
    assert got.mail_from == ""
    assert got.rcpt_tos == [to]
    assert_relayed_as(got, raw)
    event = submission_decision(user)
    assert event["action"] == "accepted"
    assert event["reason"] == "allowed"
    assert event["kind"] == "receipt"
    assert event["recipient"] == to
    assert event["message_id"] == message_id(raw).decode()


@pytest.mark.parametrize("rcpts", [[OUTSIDE], [BOSS, OUTSIDE]],
                         ids=["outside", "one-of-two-outside"])
def test_receipt_to_outside_is_refused(new_user, sink, dovecot, rcpts):
    user = new_user(**AUTO, readreceipt_allow=PARTNER)
    raw = receipt(user, rcpts)
    code, text = user.submit(raw, rcpts, mail_from="")
    assert code == 550
    assert text.startswith("5.7.1 ")
    assert "Read receipts to %s are not allowed" % OUTSIDE in text
    event = submission_decision(user)
    assert (event["action"], event["reason"], event["kind"],
            event["recipient"]) == ("rejected", "recipient_not_allowed",
                                    "receipt", OUTSIDE)
    assert_nothing_relayed(sink, raw, dovecot)


@pytest.mark.parametrize("settings,reason", [
    ({"readreceipt_mode": "disabled"}, "mode_disabled"),
    ({"readreceipt_mode": "internal", "readreceipt_allow": "@@"},
     "invalid_settings"),
], ids=["disabled", "invalid-settings"])
def test_receipt_refused_when_disabled(new_user, sink, dovecot, settings,
                                       reason):
    user = new_user(**settings)
    raw = receipt(user, BOSS)
    code, text = user.submit(raw, [BOSS], mail_from="")
    assert (code, text) == (550, "5.7.1 " + DISABLED_SENTENCE)
    event = submission_decision(user)
    assert (event["action"], event["reason"], event["kind"]) == \
        ("rejected", reason, "receipt")
    assert_nothing_relayed(sink, raw, dovecot)


MALFORMED = [
    ("unterminated-quote",
     'multipart/report; report-type="disposition-notification', None),
    ("no-report-type", "multipart/report; boundary=rr-b1", None),
    ("no-boundary-garbage-body",
     "multipart/report; report-type=disposition-notification",
     "\x00\x01 not MIME at all\n--\n--rr-b1\n\n"),
    ("broken-parameters",
     "multipart/report;;; =; ==; report-type", ""),
]


@pytest.mark.parametrize("content_type,body", [m[1:] for m in MALFORMED],
                         ids=[m[0] for m in MALFORMED])
def test_malformed_receipt_is_judged_as_a_receipt(new_user, sink, dovecot,
                                                  content_type, body):
    disabled = new_user()
    raw = receipt(disabled, BOSS, content_type=content_type, body=body)
    assert disabled.submit(raw, [BOSS], mail_from="") == \
        (550, "5.7.1 " + DISABLED_SENTENCE)
    assert submission_decision(disabled)["reason"] == "mode_disabled"
    assert_nothing_relayed(sink, raw, dovecot)

    allowed = new_user(prefix="bob", **AUTO)
    raw = receipt(allowed, BOSS, content_type=content_type, body=body)
    assert allowed.submit(raw, [BOSS], mail_from="")[0] == 250
    assert_relayed_as(relayed(sink, raw), raw)
    assert submission_decision(allowed)["action"] == "accepted"


def test_header_without_body_is_judged(new_user, sink, dovecot):
    user = new_user()
    raw = (b"From: %s\r\nTo: %s\r\nMessage-ID: <%s@example.com>\r\n"
           b"X-Bytes: \x01\xfe\xff\r\n"
           b"Content-Type: multipart/report;\r\n"
           b" report-type=disposition-notification\r\n") % (
        user.email.encode(), BOSS.encode(), uuid.uuid4().hex.encode())
    assert user.submit(raw, [BOSS], mail_from="") == \
        (550, "5.7.1 " + DISABLED_SENTENCE)
    assert_nothing_relayed(sink, raw, dovecot)


def test_delivery_status_report_is_not_a_receipt(new_user, sink):
    user = new_user()
    raw = receipt(user, BOSS, content_type="multipart/report; "
                  "report-type=delivery-status; boundary=rr-b1")
    assert user.submit(raw, [BOSS])[0] == 250
    assert_relayed_as(relayed(sink, raw), raw)
    assert user.submission_lines() == []


# ---------------------------------------------------------------- requests

def test_request_is_stripped_by_default(new_user, sink):
    user = new_user()
    raw = dnt_message(user)
    assert user.submit(raw, [BOSS])[0] == 250
    got = relayed(sink, raw)
    assert not DNT_RE.search(got.raw)
    expected = without_dnt(raw)
    assert len(expected) < len(raw)
    assert_relayed_as(got, expected)
    event = submission_decision(user)
    assert (event["action"], event["reason"], event["kind"]) == \
        ("stripped", "mode_disabled", "request")
    assert event["message_id"] == message_id(raw).decode()


def test_request_rejected(new_user, sink, dovecot):
    user = new_user(readreceipt_request="reject")
    raw = dnt_message(user)
    assert user.submit(raw, [BOSS]) == (550, "5.7.1 " + REQUEST_SENTENCE)
    event = submission_decision(user)
    assert (event["action"], event["reason"], event["kind"]) == \
        ("rejected", "mode_disabled", "request")
    assert_nothing_relayed(sink, raw, dovecot)


def test_request_allowed(new_user, sink):
    user = new_user(readreceipt_request="allow")
    raw = dnt_message(user)
    assert user.submit(raw, [BOSS])[0] == 250
    assert_relayed_as(relayed(sink, raw), raw)
    event = submission_decision(user)
    assert (event["action"], event["reason"], event["kind"]) == \
        ("accepted", "mode_disabled", "request")


def test_request_untouched_where_receipts_are_allowed(new_user, sink):
    user = new_user(readreceipt_request="reject", **AUTO)
    raw = dnt_message(user)
    assert user.submit(raw, [BOSS])[0] == 250
    assert_relayed_as(relayed(sink, raw), raw)
    assert user.submission_lines() == []


def test_ordinary_message_is_relayed_byte_for_byte(new_user, sink):
    user = new_user(readreceipt_request="reject")
    body = ("Grüße,\n.leading dot\n..two dots\n" + "x" * 990 + "\n"
            "Disposition-Notification-To: in the body stays\n")
    raw = make_message(user.email, [BOSS, "carol@example.com"], "Hello",
                       dnt=None, body=body)
    code, text = user.submit(raw, [BOSS, "carol@example.com"])
    assert code == 250, text
    got = relayed(sink, raw)
    assert sorted(got.rcpt_tos) == [BOSS, "carol@example.com"]
    assert_relayed_as(got, raw)
    assert user.submission_lines() == []


def test_large_message_streams_through_strip(new_user, sink):
    user = new_user()
    line = "0123456789" * 7 + "abcdef\n"
    body = line * (10 * 1024 * 1024 // len(line) + 1)
    raw = dnt_message(user, body=body)
    assert len(raw) > 10 * 1024 * 1024
    assert user.submit(raw, [BOSS], )[0] == 250
    got = relayed(sink, raw, timeout=30)
    try:
        assert_relayed_as(got, without_dnt(raw))
    finally:
        # later look-ups need not read it again
        sink.remove(got)
    assert submission_decision(user)["action"] == "stripped"


def test_too_many_requests_are_refused_not_stripped(new_user, sink, dovecot):
    user = new_user()
    raw = dnt_message(user, extra_headers=[
        ("Disposition-Notification-To", "a%d@example.com" % i)
        for i in range(120)])
    code, text = user.submit(raw, [BOSS])
    assert (code, text) == (550, "5.7.1 " + REQUEST_SENTENCE)
    assert_nothing_relayed(sink, raw, dovecot)
