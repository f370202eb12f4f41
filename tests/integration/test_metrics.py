"""The README's metrics snippet with Dovecot's OpenMetrics exporter.

A private Dovecot runs with exactly the snippet of examples/metrics/ for
its version (the file the README shows; only the listener's port is
changed to a free one). Users under different policies open messages that
ask for receipts and send receipts through submission; /metrics then has
the readreceipt_decision counters by decision and reason, and the
readreceipt_submission counters by action and reason.
"""

import os
import re
import urllib.request

import pytest

import rrharness
from conftest import running_dovecot
from rrharness import MailUser, fetch_body, make_message, scaled, wait_until

SNIPPET_PORT = "port = 9900"
# dovecot_<metric>_total{label="value",...} <count>
SAMPLE_RE = re.compile(r'^dovecot_(\w+)_total\{([^}]*)\} (\d+)$', re.M)
LABEL_RE = re.compile(r'(\w+)="([^"]*)"')


def snippet_path():
    return os.path.join(rrharness.SOURCE_ROOT, "examples", "metrics",
                        "dovecot-%s.conf" % ("2.4" if rrharness.DOVECOT_24
                                             else "2.3"))


def read_snippet():
    with open(snippet_path()) as f:
        return f.read()


def counters(port, metric, labels):
    """{(label values): count} of one metric's groups by exactly the
    labels named (group_by also exports each coarser level: the total,
    and the groups by the first field alone)."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                timeout=scaled(5)) as resp:
        assert resp.status == 200
        text = resp.read().decode()
    result = {}
    for name, sample_labels, count in SAMPLE_RE.findall(text):
        pairs = LABEL_RE.findall(sample_labels)
        if name == metric and tuple(k for k, _ in pairs) == labels:
            result[tuple(v for _, v in pairs)] = int(count)
    return result


def wait_counters(port, metric, labels, expected):
    """Wait until the metric's counters are exactly expected; the stats
    process gets events asynchronously."""
    seen = {}

    def same():
        seen.clear()
        seen.update(counters(port, metric, labels))
        return seen == expected
    try:
        wait_until(same, scaled(10), what="%s counters" % metric)
    except TimeoutError:
        pass
    assert seen == expected, "%s: %r, expected %r" % (metric, seen,
                                                      expected)


def test_readme_shows_the_snippet():
    """The README shows the file's text, so what the admin copies is what
    this test runs."""
    with open(os.path.join(rrharness.SOURCE_ROOT, "README.md")) as f:
        readme = f.read()
    assert read_snippet() in readme, snippet_path()


def open_message(user, message_id, seq="1"):
    """Open message seq of INBOX in a session of its own and wait for the
    decision on message_id."""
    conn = user.imap()
    try:
        fetch_body(conn, seq)
        user.wait_decision(message_id)
    finally:
        conn.logout()


def client_receipt(user, to):
    """A receipt as a client builds it (RFC 8098)."""
    body = ("--rr-m1\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            "The message was displayed.\r\n"
            "--rr-m1\r\n"
            "Content-Type: message/disposition-notification\r\n\r\n"
            "Final-Recipient: rfc822; %s\r\n"
            "Disposition: manual-action/MDN-sent-manually; displayed\r\n"
            "--rr-m1--\r\n") % user.email
    return make_message(user.email, to, "Read: Quarterly report", dnt=None,
                        body=body,
                        content_type='multipart/report; report-type='
                                     'disposition-notification; '
                                     'boundary="rr-m1"')


@pytest.fixture(scope="module")
def metrics_dovecot(workdir, sink):
    text = read_snippet()
    port = rrharness.free_port()
    assert text.count(SNIPPET_PORT) == 1, snippet_path()
    with running_dovecot(workdir, "dovecot-metrics", sink,
                         extra_config=text.replace(
                             SNIPPET_PORT, "port = %d" % port)) as dc:
        wait_until(lambda: rrharness.port_open(port), scaled(10),
                   what="the OpenMetrics listener on port %d" % port)
        yield dc, port


def test_counters_by_decision_and_reason(metrics_dovecot, sink):
    dc, port = metrics_dovecot
    auto = {"readreceipt_mode": "internal", "readreceipt_prompt": "no"}
    # two automatic receipts
    for i in (1, 2):
        user = MailUser(dc, sink, "auto%d@example.com" % i, **auto)
        open_message(user, user.deliver())
        user.wait_receipts(1)
    # receipts are off for this user
    off = MailUser(dc, sink, "off@example.com",
                   readreceipt_mode="disabled")
    open_message(off, off.deliver())
    # mode internal does not answer outside the organisation
    outside = MailUser(dc, sink, "outside@example.com", **auto)
    open_message(outside, outside.deliver(frm="someone@elsewhere.example"))

    # receipts that clients send through submission
    code, text = outside.submit(client_receipt(outside, "boss@example.com"),
                                ["boss@example.com"], mail_from="")
    assert code == 250, (code, text)
    code, text = off.submit(client_receipt(off, "boss@example.com"),
                            ["boss@example.com"], mail_from="")
    assert code == 550, (code, text)

    wait_counters(port, "readreceipt_decisions", ("decision", "reason"), {
        ("sent", "automatic"): 2,
        ("suppressed", "mode_disabled"): 1,
        ("suppressed", "recipient_not_allowed"): 1,
    })
    wait_counters(port, "readreceipt_submissions", ("action", "reason"), {
        ("accepted", "allowed"): 1,
        ("rejected", "mode_disabled"): 1,
    })
