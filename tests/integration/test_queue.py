"""The pending queue: receipts that wait for the user's answer, kept as
private METADATA entries of the message's mailbox; and receipts that are
owed (relay down, hourly limit), which are kept in the mailbox index, not
as METADATA entries (SPEC §12; test_outbox.py has the details).

Each user here has its own attribute dict (userdb fields), so the
queue exists for it; the users of test_receipts.py have none.
"""

import json
import os
import time

import pytest

from rrharness import PENDING_PREFIX as PREFIX
from rrharness import attribute_dict_settings, disposition_fields, \
    fetch_body, fetch_flags, getmetadata, imap_check, normalize_ws, \
    setmetadata, wait_until, scaled

BOSS = "boss@example.com"


# ---------------------------------------------------------------- helpers

def queue_user(new_user, dovecot, **settings):
    """A user with an attribute dict, in mode internal."""
    base = {"readreceipt_mode": "internal"}
    base.update(settings)
    # the dict lives in the user's home; the name is known before login
    user = new_user(**base)
    path = os.path.join(dovecot.home(user.name), "dovecot-attributes")
    user.settings = dict(base, **attribute_dict_settings(path))
    dovecot.add_user(user.name, user.password, **user.settings)
    return user


def update_user(user, **changes):
    """Change some of the user's userdb fields."""
    user.settings.update(changes)
    user.dovecot.add_user(user.name, user.password, **user.settings)


def pending(user, uid=1, mailbox="INBOX"):
    """The parsed JSON of the entry, or None when there is none."""
    conn = user.imap(mailbox=None)
    try:
        value = getmetadata(conn, PREFIX + str(uid), mailbox)
    finally:
        conn.logout()
    return None if value is None else json.loads(value)


def open_uid(user, uid=1, mailbox="INBOX", message_id=None):
    """FETCH BODY[] of uid in a session of its own. message_id: log out
    only once a decision on it was logged (a receipt leaves after the
    FETCH was answered)."""
    conn = user.imap(mailbox)
    try:
        typ, data = conn.uid("FETCH", str(uid), "(BODY[])")
        assert typ == "OK", data
        if message_id is not None:
            wait_decisions(user, message_id, 1)
    finally:
        conn.logout()


def decisions_for(user, message_id):
    return [d for d in user.decision_lines()
            if d.get("message_id") == message_id]


def wait_decisions(user, message_id, count, timeout=5):
    wait_until(lambda: len(decisions_for(user, message_id)) >= count,
               scaled(timeout), what="%d decisions for %s" % (count,
                                                              message_id))
    return decisions_for(user, message_id)


def queued_prompt(new_user, dovecot, subject="Please confirm"):
    """A user whose open queued a prompt: (user, message_id)."""
    user = queue_user(new_user, dovecot, readreceipt_prompt="yes",
                      readreceipt_unprompted="defer")
    mid = user.deliver(subject=subject)
    open_uid(user)
    d = wait_decisions(user, mid, 1)[-1]
    assert (d["decision"], d["reason"]) == ("queued", "unprompted"), d
    return user, mid


# ---------------------------------------------------------------- entries

def test_prompt_entry_has_the_json(new_user, dovecot):
    user, mid = queued_prompt(new_user, dovecot,
                              subject='Budget "Q3" review')
    value = pending(user)
    assert value["to"] == [BOSS]
    assert value["subject"] == 'Budget "Q3" review'
    assert value["message_id"] == mid
    assert value["reason"] == "unprompted"
    assert abs(value["since"] - time.time()) < 120
    assert user.receipts() == []
    assert "$MDNSent" not in user.flags()


def test_answer_send_sends_one_manual_receipt(new_user, dovecot):
    user, mid = queued_prompt(new_user, dovecot)
    conn = user.imap()
    try:
        imap_check(setmetadata(conn, PREFIX + "1", "send"))
        # the receipt leaves after the answer was acknowledged
        d = wait_decisions(user, mid, 2)[-1]
    finally:
        conn.logout()
    assert (d["decision"], d["trigger"]) == ("sent", "answer"), d
    receipts = user.wait_receipts(1)
    assert len(receipts) == 1, receipts
    mdn = receipts[0].msg
    fields = disposition_fields(mdn)
    assert normalize_ws(fields["disposition"]) == \
        "manual-action/MDN-sent-manually; displayed"
    assert mdn["Auto-Submitted"] is None
    assert receipts[0].mail_from == ""
    assert "$MDNSent" in user.flags()
    assert pending(user) is None


@pytest.mark.parametrize("answer", ["ignore", None], ids=["ignore", "NIL"])
def test_answer_ignore_or_nil_only_marks(new_user, dovecot, answer):
    user, mid = queued_prompt(new_user, dovecot)
    conn = user.imap()
    try:
        imap_check(setmetadata(conn, PREFIX + "1", answer))
    finally:
        conn.logout()
    d = wait_decisions(user, mid, 2)[-1]
    assert (d["decision"], d["reason"], d["trigger"]) == \
        ("ignored", "user", "answer"), d
    assert "$MDNSent" in user.flags()
    assert pending(user) is None
    user.marker()
    assert [r.msg["In-Reply-To"].strip() for r in user.receipts()] == []


def test_invalid_answer_is_refused(new_user, dovecot):
    user, mid = queued_prompt(new_user, dovecot)
    before = pending(user)
    conn = user.imap()
    try:
        typ, data = setmetadata(conn, PREFIX + "1", "yes please")
        assert typ == "NO", (typ, data)
        assert b"send" in b" ".join(x for x in data if x), data
    finally:
        conn.logout()
    assert pending(user) == before
    assert "$MDNSent" not in user.flags()
    assert len(decisions_for(user, mid)) == 1
    assert user.receipts() == []


def test_client_setting_mdnsent_removes_entry(new_user, dovecot):
    user, mid = queued_prompt(new_user, dovecot)
    conn = user.imap()
    try:
        imap_check(conn.store("1", "+FLAGS", "($MDNSent)"))
    finally:
        conn.logout()
    wait_until(lambda: pending(user) is None, scaled(5),
               what="entry removed")
    assert user.receipts() == []


def test_expunge_removes_entry(new_user, dovecot):
    user, mid = queued_prompt(new_user, dovecot)
    conn = user.imap()
    try:
        imap_check(conn.store("1", "+FLAGS", "(\\Deleted)"))
        imap_check(conn.expunge())
    finally:
        conn.logout()
    wait_until(lambda: pending(user) is None, scaled(5),
               what="entry removed")


def test_pop3_defer_queues(new_user, dovecot):
    user = queue_user(new_user, dovecot, readreceipt_prompt="yes",
                      readreceipt_unprompted="defer")
    mid = user.deliver()
    pop = user.pop3()
    pop.retr(1)
    pop.quit()
    d = wait_decisions(user, mid, 1)[-1]
    assert (d["decision"], d["reason"], d["trigger"]) == \
        ("queued", "unprompted", "pop3"), d
    assert pending(user)["reason"] == "unprompted"
    assert user.receipts() == []


def test_consent_required_is_queued_with_its_reason(new_user, dovecot):
    user = queue_user(new_user, dovecot, readreceipt_prompt="no",
                      readreceipt_unprompted="send")
    mid = user.deliver(mail_from="bounces@example.com")
    open_uid(user)
    d = wait_decisions(user, mid, 1)[-1]
    assert (d["decision"], d["reason"]) == ("queued", "consent_required")
    assert pending(user)["reason"] == "consent_required"
    assert user.receipts() == []


# ---------------------------------------------------------------- retries

def sent_decision(user, message_id, timeout=5):
    """The one decision=sent line for message_id (waits for it)."""
    def sent():
        return [d for d in decisions_for(user, message_id)
                if d["decision"] == "sent"]
    wait_until(sent, scaled(timeout), what="decision=sent for %s"
               % message_id)
    found = sent()
    assert len(found) == 1, found
    return found[0]


def test_relay_down_then_retried_once(new_user, dovecot, refused_port,
                                      sink):
    """A receipt that failed temporarily is owed (recorded in the index
    with $MDNSent, not as a METADATA entry); the user's next session sends
    it, once."""
    user = queue_user(new_user, dovecot, readreceipt_prompt="no",
                      readreceipt_submission_host="127.0.0.1:%d"
                      % refused_port)
    mid = user.deliver(subject="while the relay is down")
    open_uid(user, message_id=mid)
    d = wait_decisions(user, mid, 1)[-1]
    assert (d["decision"], d["reason"]) == ("queued", "retry"), d
    assert pending(user) is None
    assert "$MDNSent" in user.flags()
    assert user.receipts() == []

    # the relay is back; the next session sends what is owed
    update_user(user, readreceipt_submission_host=sink.address)
    mid2 = user.deliver(subject="relay is back")
    open_uid(user, 2, message_id=mid2)
    d = sent_decision(user, mid)
    assert d["trigger"] == "flush", d
    assert pending(user) is None
    assert "$MDNSent" in user.flags("1")
    user.wait_receipts(2)
    got = [r.msg["In-Reply-To"].strip() for r in user.receipts()]
    assert sorted(got) == sorted([mid, mid2])
    disp = [normalize_ws(disposition_fields(r.msg)["disposition"])
            for r in user.receipts() if r.msg["In-Reply-To"].strip() == mid]
    assert disp == ["automatic-action/MDN-sent-automatically; displayed"]

    # another session finds nothing left to send
    mid3 = user.deliver(subject="third")
    open_uid(user, 3, message_id=mid3)
    user.wait_receipts(3)
    sent_decision(user, mid)
    got = [r.msg["In-Reply-To"].strip() for r in user.receipts()]
    assert sorted(got) == sorted([mid, mid2, mid3])


def test_hourly_limit_queues_then_flushes(new_user, dovecot):
    user = queue_user(new_user, dovecot, readreceipt_prompt="no",
                      readreceipt_max_per_hour="1")
    mid1 = user.deliver(subject="first")
    mid2 = user.deliver(subject="second")
    open_uid(user, 1, message_id=mid1)
    assert wait_decisions(user, mid1, 1)[-1]["decision"] == "sent"
    open_uid(user, 2, message_id=mid2)
    d = wait_decisions(user, mid2, 1)[-1]
    assert (d["decision"], d["reason"]) == ("queued", "rate_limited"), d
    # owed in the index, not a METADATA entry
    assert pending(user, 2) is None
    assert "$MDNSent" in user.flags("2")
    assert len(user.wait_receipts(1)) == 1

    # a higher limit (as an hour later): the next session sends what waits
    update_user(user, readreceipt_max_per_hour="10")
    mid3 = user.deliver(subject="third")
    open_uid(user, 3, message_id=mid3)
    d = sent_decision(user, mid2)
    assert d["trigger"] == "flush", d
    wait_decisions(user, mid3, 1)
    assert pending(user, 2) is None
    user.wait_receipts(3)
    got = sorted(r.msg["In-Reply-To"].strip() for r in user.receipts())
    assert got == sorted([mid1, mid2, mid3])


def test_without_dict_nothing_is_queued(new_user):
    """No mail_attribute_dict: the decision is failed, the error is
    logged, and mail keeps working."""
    user = new_user(readreceipt_mode="internal", readreceipt_prompt="yes",
                    readreceipt_unprompted="defer")
    mid = user.deliver()
    conn = user.imap()
    try:
        body = fetch_body(conn, "1")
        assert b"Quarterly" in body
        assert fetch_flags(conn, "1") >= {"\\Seen"}
    finally:
        conn.logout()
    d = wait_decisions(user, mid, 1)[-1]
    assert (d["decision"], d["reason"]) == \
        ("failed", "no_attribute_dict"), d
    errors = [l for l in user.dovecot.log_lines()
              if l.user == user.name and l.level == "Error"
              and "mail_attribute_dict" in l.text]
    assert len(errors) == 1, errors


# ---------------------------------------------------------------- prompting clients

@pytest.mark.parametrize("how", ["id-roundcube", "enable"])
def test_prompting_client_gets_entries_not_automatic_receipts(
        new_user, dovecot, how):
    """Mode internal with prompt=no would send automatically; a client that
    shows its own prompt gets a queued entry (reason prompt) instead."""
    user = queue_user(new_user, dovecot, readreceipt_prompt="no")
    mid = user.deliver()
    conn = user.imap(mailbox=None)
    try:
        if how == "enable":
            typ, data = conn._simple_command("ENABLE", "XREADRECEIPT")
            assert typ == "OK", data
        else:
            imap_check(conn.xatom("ID", '("name" "Roundcube" "version" '
                                        '"1.6.0")'))
        imap_check(conn.select("INBOX"))
        fetch_body(conn, "1")
    finally:
        conn.logout()
    d = wait_decisions(user, mid, 1)[-1]
    assert (d["decision"], d["reason"], d["trigger"]) == \
        ("queued", "prompt", "open"), d
    assert pending(user)["reason"] == "prompt"
    assert user.receipts() == []
    assert "$MDNSent" not in user.flags()
