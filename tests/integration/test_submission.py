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
                  "report-type=delivery-status; boundary=rr-b1",
                  body=DSN_BODY)
    assert user.submit(raw, [BOSS])[0] == 250
    assert_relayed_as(relayed(sink, raw), raw)
    assert user.submission_lines() == []


# ------------------------------------------- receipts in other MIME shapes

# SPEC §13: a message is a receipt when its MIME structure holds a
# message/disposition-notification part at the top level or inside
# multiparts, whatever report-type says; a top-level multipart/report whose
# report-type says disposition-notification in any form is one too.
MDN_FIELDS = (
    "Reporting-UA: webmail.example.com; Roundcube Webmail\n"
    "Final-Recipient: rfc822; alice@example.com\n"
    "Original-Message-ID: <orig@example.com>\n"
    "Disposition: manual-action/MDN-sent-manually; displayed\n")
DSN_BODY = (
    "--rr-b1\n"
    "Content-Type: text/plain; charset=utf-8\n\n"
    "Your message could not be delivered.\n"
    "--rr-b1\n"
    "Content-Type: message/delivery-status\n\n"
    "Reporting-MTA: dns; mx.example.com\n\n"
    "Final-Recipient: rfc822; ceo@outside.example\n"
    "Action: failed\n"
    "Status: 5.1.1\n"
    "--rr-b1--\n")
RECEIPT_BODY = (
    "--rr-b1\n"
    "Content-Type: text/plain; charset=utf-8\n\n"
    "The message was displayed.\n"
    "--rr-b1\n"
    "Content-Type: message/disposition-notification\n\n"
    + MDN_FIELDS +
    "--rr-b1--\n")
NESTED_BODY = (
    "--rr-m1\n"
    "Content-Type: text/plain; charset=utf-8\n\n"
    "See the receipt below.\n"
    "--rr-m1\n"
    "Content-Type: multipart/report; report-type=disposition-notification;"
    " boundary=\"rr-b1\"\n\n"
    + RECEIPT_BODY +
    "--rr-m1--\n")
NOT_ALLOWED_SENTENCE = (
    "Read receipts to %s are not allowed: the address is outside the "
    "organisation and not on its allow list" % OUTSIDE)

RECEIPT_SHAPES = [
    # a repeated parameter: any instance counts
    ("repeated-report-type",
     "multipart/report; report-type=x-other; "
     "report-type=disposition-notification; boundary=\"rr-b1\"",
     RECEIPT_BODY),
    ("repeated-report-type-no-mdn-part",
     "multipart/report; report-type=x-other; "
     "report-type=disposition-notification; boundary=\"rr-b1\"",
     DSN_BODY),
    # the part decides, not the report-type
    ("delivery-status-holding-mdn-part",
     "multipart/report; report-type=delivery-status; boundary=\"rr-b1\"",
     RECEIPT_BODY),
    # a receipt part as the whole message
    ("top-level-mdn", "message/disposition-notification", MDN_FIELDS),
    # a whole receipt inside multipart/mixed
    ("nested-in-mixed", "multipart/mixed; boundary=\"rr-m1\"",
     NESTED_BODY),
    # a NUL in the report-type
    ("nul-in-report-type",
     "multipart/report; report-type=disposition-\x00notification; "
     "boundary=\"rr-b1\"", RECEIPT_BODY),
    ("nul-in-report-type-no-mdn-part",
     "multipart/report; report-type=\"delivery-status\x00\"; "
     "boundary=\"rr-b1\"", DSN_BODY),
    # parameters: case, quoting, RFC 2231, broken (no MDN part: the
    # parameter alone makes them receipts)
    ("upper-case",
     "MULTIPART/REPORT; REPORT-TYPE=DISPOSITION-NOTIFICATION; "
     "BOUNDARY=\"rr-b1\"", DSN_BODY),
    ("quoted-and-folded",
     "multipart/report;\r\n\treport-type=\"Disposition-Notification\";"
     "\r\n\tboundary=\"rr-b1\"", DSN_BODY),
    ("rfc2231",
     "multipart/report; report-type=delivery-status; "
     "report-type*=us-ascii''disposition-notification; boundary=\"rr-b1\"",
     DSN_BODY),
    ("rfc2231-continuation",
     "multipart/report; report-type*0=disposition-; "
     "report-type*1=notification; boundary=\"rr-b1\"", DSN_BODY),
    ("broken",
     "multipart/report; report-type=delivery-status; boundary=\"rr-b1\"; "
     "x=\"; report-type=disposition-notification", DSN_BODY),
]


@pytest.mark.parametrize("content_type,body",
                         [shape[1:] for shape in RECEIPT_SHAPES],
                         ids=[shape[0] for shape in RECEIPT_SHAPES])
def test_receipt_in_any_shape_is_refused(new_user, sink, dovecot,
                                         content_type, body):
    user = new_user(**AUTO)
    raw = receipt(user, OUTSIDE, content_type=content_type, body=body)
    assert user.submit(raw, [OUTSIDE], mail_from="") == \
        (550, "5.7.1 " + NOT_ALLOWED_SENTENCE)
    event = submission_decision(user)
    assert (event["action"], event["reason"], event["kind"],
            event["recipient"]) == ("rejected", "recipient_not_allowed",
                                    "receipt", OUTSIDE)
    assert_nothing_relayed(sink, raw, dovecot)


def test_receipt_in_another_shape_to_inside_is_relayed(new_user, sink):
    """The same rule lets an allowed receipt go, whatever its shape."""
    user = new_user(**AUTO)
    raw = receipt(user, BOSS, content_type="multipart/mixed; "
                  "boundary=\"rr-m1\"", body=NESTED_BODY)
    assert user.submit(raw, [BOSS], mail_from="")[0] == 250
    assert_relayed_as(relayed(sink, raw), raw)
    event = submission_decision(user)
    assert (event["action"], event["kind"]) == ("accepted", "receipt")


def test_forwarded_receipt_is_relayed(new_user, sink):
    """A receipt attached as message/rfc822 is a forward, not a receipt."""
    user = new_user(**AUTO)
    attached = receipt(user, BOSS).decode()
    body = ("--rr-f1\n"
            "Content-Type: text/plain; charset=utf-8\n\n"
            "Here is the receipt I got.\n"
            "--rr-f1\n"
            "Content-Type: message/rfc822\n"
            "Content-Disposition: attachment\n\n"
            + attached +
            "--rr-f1--\n")
    raw = make_message(user.email, OUTSIDE, "Fwd: Read: Quarterly report",
                       dnt=None, body=body,
                       content_type='multipart/mixed; boundary="rr-f1"')
    code, text = user.submit(raw, [OUTSIDE])
    assert code == 250, text
    got = relayed(sink, raw)
    assert got.rcpt_tos == [OUTSIDE]
    assert_relayed_as(got, raw)
    assert user.submission_lines() == []


@pytest.mark.parametrize("rcpt", [
    "victim%evil.example@example.com",
    '"victim@evil.example"@example.com',
    "a!b@example.com",
], ids=["percent", "quoted-at", "bang"])
def test_receipt_to_routed_local_part_is_refused(new_user, sink, dovecot,
                                                 rcpt):
    """A local part with @, % or ! may be routed on by the organisation's
    own server: such an address is never internal."""
    user = new_user(**AUTO)
    raw = receipt(user, BOSS)
    code, text = user.submit(raw, [rcpt], mail_from="")
    assert code == 550, text
    assert text.startswith("5.7.1 Read receipts to "), text
    assert text.endswith(" are not allowed: the address is outside the "
                         "organisation and not on its allow list"), text
    event = submission_decision(user)
    assert (event["action"], event["reason"], event["kind"]) == \
        ("rejected", "recipient_not_allowed", "receipt")
    assert_nothing_relayed(sink, raw, dovecot)


# A multipart without a boundary: Dovecot's parser reads it as one part, so
# what it holds cannot be told.
UNREADABLE_TYPE = "multipart/mixed"
UNREADABLE_BODY = ("--rr-b1\n"
                   "Content-Type: message/disposition-notification\n\n"
                   + MDN_FIELDS + "--rr-b1--\n")
UNREADABLE_WHY = (", and this message may be one: its MIME structure "
                  "cannot be read (a multipart part has no boundary)")


@pytest.mark.parametrize("settings,to,sentence,reason", [
    (AUTO, OUTSIDE, "Read receipts to %s are not allowed" % OUTSIDE,
     "recipient_not_allowed"),
    ({}, BOSS, DISABLED_SENTENCE, "mode_disabled"),
], ids=["outside", "disabled"])
def test_unreadable_mime_is_held_to_the_receipt_policy(
        new_user, sink, dovecot, settings, to, sentence, reason):
    user = new_user(**settings)
    raw = receipt(user, to, content_type=UNREADABLE_TYPE,
                  body=UNREADABLE_BODY)
    assert user.submit(raw, [to]) == \
        (550, "5.7.1 " + sentence + UNREADABLE_WHY)
    event = submission_decision(user)
    assert (event["action"], event["reason"], event["kind"]) == \
        ("rejected", reason, "unreadable")
    assert_nothing_relayed(sink, raw, dovecot)


def test_unreadable_mime_goes_where_receipts_may(new_user, sink):
    user = new_user(**AUTO)
    raw = receipt(user, BOSS, content_type=UNREADABLE_TYPE,
                  body=UNREADABLE_BODY)
    assert user.submit(raw, [BOSS])[0] == 250
    assert_relayed_as(relayed(sink, raw), raw)
    event = submission_decision(user)
    assert (event["action"], event["reason"], event["kind"]) == \
        ("accepted", "allowed", "unreadable")


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
    # the envelope recipients, as the README says
    assert event["recipient"] == BOSS, event


def test_request_rejected(new_user, sink, dovecot):
    user = new_user(readreceipt_request="reject")
    raw = dnt_message(user)
    assert user.submit(raw, [BOSS]) == (550, "5.7.1 " + REQUEST_SENTENCE)
    event = submission_decision(user)
    assert (event["action"], event["reason"], event["kind"]) == \
        ("rejected", "mode_disabled", "request")
    assert event["recipient"] == BOSS, event
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
