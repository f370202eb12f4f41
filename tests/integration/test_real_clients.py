"""Real third-party clients against the private Dovecot.

swaks and curl speak SMTP to the submission service the way a mail client
that sends its own receipts does (null sender, AUTH PLAIN), and curl opens
messages over IMAP the way a simple client does (FETCH BODY[], which sets
\\Seen). The tests check what those programs report and what arrives at
the SMTP sink. scripts/deps.sh installs both programs.
"""

import os
import re
import shutil
import subprocess

import pytest

from rrharness import make_message, scaled, strip_private, wait_until

BOSS = "boss@example.com"
AUTO = {"readreceipt_mode": "internal", "readreceipt_prompt": "no"}
DNT_RE = re.compile(rb"(?im)^disposition-notification-to:")


def tool(name):
    path = shutil.which(name)
    assert path is not None, \
        "%s is needed for this test (scripts/deps.sh installs it)" % name
    return path


def run(args, timeout=30, **kwargs):
    return subprocess.run(args, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=scaled(timeout),
                          **kwargs)


def write_message(tmp_path, raw, name="message.eml"):
    path = tmp_path / name
    path.write_bytes(raw)
    return str(path)


def mdn(user, to):
    body = ("--b1\n"
            "Content-Type: text/plain; charset=utf-8\n\n"
            "Your message was displayed.\n"
            "--b1\n"
            "Content-Type: message/disposition-notification\n\n"
            "Final-Recipient: rfc822; %s\n"
            "Disposition: manual-action/MDN-sent-manually; displayed\n"
            "--b1--\n") % user.email
    return make_message(user.email, to, "Read: Lunch", dnt=None, body=body,
                        content_type="multipart/report; "
                        "report-type=disposition-notification; boundary=b1")


def message_id(raw):
    return re.search(rb"(?im)^Message-ID: (<[^>]*>)", raw).group(1)


def swaks(dovecot, user, to, data_path, mail_from):
    return run([tool("swaks"), "--server", "127.0.0.1",
                "--port", str(dovecot.submission_port),
                "--helo", "client.example.com",
                "--auth", "PLAIN", "--auth-user", user.name,
                "--auth-password", user.password,
                "--from", mail_from, "--to", to,
                "--data", "@" + data_path])


def test_swaks_receipt_refused_when_disabled(new_user, dovecot, sink,
                                             tmp_path):
    user = new_user(readreceipt_mode="disabled")
    raw = mdn(user, BOSS)
    res = swaks(dovecot, user, BOSS, write_message(tmp_path, raw), "<>")
    out = res.stdout.decode("utf-8", "replace")
    # 26: the server did not accept the mail after DATA
    assert res.returncode == 26, out
    assert "<** 550 5.7.1 Read receipts are disabled for this account" in out
    assert sink.find(message_id(raw)) == []


def test_swaks_request_stripped(new_user, dovecot, sink, tmp_path):
    user = new_user(readreceipt_mode="disabled")
    raw = make_message(user.email, BOSS, "Lunch?", dnt=user.email)
    res = swaks(dovecot, user, BOSS, write_message(tmp_path, raw),
                user.email)
    assert res.returncode == 0, res.stdout.decode("utf-8", "replace")
    mid = message_id(raw)
    wait_until(lambda: sink.find(mid), scaled(5), what="the message")
    got = sink.find(mid)[0]
    assert not DNT_RE.search(got.raw)
    assert str(got.msg["Subject"]) == "Lunch?"
    assert got.rcpt_tos == [BOSS]


def test_curl_smtp_receipt_with_null_sender(new_user, dovecot, sink,
                                            tmp_path):
    user = new_user(**AUTO)
    raw = mdn(user, BOSS)
    res = run([tool("curl"), "-sS",
               "smtp://127.0.0.1:%d" % dovecot.submission_port,
               "--user", "%s:%s" % (user.name, user.password),
               "--login-options", "AUTH=PLAIN",
               # "<>" as written: newer curl refuses an empty argument
               "--mail-from", "<>", "--mail-rcpt", BOSS,
               "--upload-file", write_message(tmp_path, raw)])
    assert res.returncode == 0, res.stdout.decode("utf-8", "replace")
    mid = message_id(raw)
    wait_until(lambda: sink.find(mid), scaled(5), what="the receipt")
    got = sink.find(mid)[0]
    assert got.mail_from == ""
    assert got.msg.get_param("report-type") == "disposition-notification"


def test_curl_imap_opens_what_delivery_left_offerable(new_user, dovecot):
    """hide_forbidden as a simple IMAP client meets it: the allowed
    request gets its receipt from the server when curl opens the message,
    the mailing-list one was marked $MDNSent at delivery and gets none."""
    user = new_user(readreceipt_hide_forbidden="yes", **AUTO)
    allowed = user.deliver(subject="Quarterly report")
    listed = user.deliver(subject="Newsletter",
                          extra_headers=[("List-Id", "News <news.example>")])
    wait_until(lambda: user.decision_lines(), scaled(5),
               what="the delivery decision")

    for uid, subject in ((1, b"Quarterly report"), (2, b"Newsletter")):
        res = run([tool("curl"), "-sS", "--user",
                   "%s:%s" % (user.name, user.password),
                   "imap://127.0.0.1:%d/INBOX;UID=%d" % (
                       dovecot.imap_port, uid)])
        assert res.returncode == 0, res.stdout
        assert b"Subject: " + subject in res.stdout

    lines, events = user.wait_decision(allowed, extra=lambda: len(
        user.decision_lines()) >= 3)
    seen = [(d["message_id"], d["trigger"], d["decision"], d["reason"])
            for d in lines]
    assert seen == [
        (listed, "delivery", "suppressed", "mailing_list"),
        (allowed, "open", "sent", "automatic"),
        (listed, "open", "suppressed", "already_sent"),
    ]
    assert [strip_private(e)["reason"] for e in events] == \
        ["mailing_list", "automatic", "already_sent"]
    receipts = user.receipts()
    assert len(receipts) == 1
    assert receipts[0].msg["In-Reply-To"].strip() == allowed
    assert user.all_flags() == {1: {"\\Seen", "$MDNSent"},
                                2: {"\\Seen", "$MDNSent"}}
