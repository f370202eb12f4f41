"""A policy change reaches sessions that are already open (SPEC §15).

An IMAP session is opened, then the administrator changes the user's
policy (userdb, or the configuration and doveadm reload); a message that
asks for a receipt is opened in that same session after
readreceipt_policy_refresh: it follows the new policy, and the change is
recorded once as a readreceipt_policy_changed event."""

import os
import smtplib
import time

import pytest

import rrharness
from rrharness import PENDING_PREFIX, attribute_dict_settings, fetch_body, \
    imap_check, setmetadata, wait_until, scaled
from conftest import running_dovecot

# short, so that the tests need not wait five minutes
REFRESH = 1
AUTO = {"readreceipt_mode": "internal", "readreceipt_prompt": "no",
        "readreceipt_policy_refresh": "%ds" % REFRESH}


# ---------------------------------------------------------------- helpers

def changes(dc, user, offset=0):
    """The user's readreceipt_policy_changed events, as flat dicts."""
    result = []
    for event in dc.exported_events(rrharness.POLICY_CHANGED_EVENT, offset):
        fields = {k: str(v) for k, v in event.get("fields", {}).items()}
        if fields.get("user") == user.name:
            result.append(fields)
    return result


def changed_lines(dc, user, offset=0):
    return [line for line in dc.log_lines(offset)
            if "readreceipt: policy changed: " in line.text and
            "user=%s " % user.name in line.text]


def config_source(value):
    """The source a configured readreceipt_mode shows: Dovecot 2.4 cannot
    tell a configured value that equals the default from the default (the
    README says so)."""
    if rrharness.DOVECOT_24 and value == "disabled":
        return "default"
    return "config"


def wait_refresh():
    """Past readreceipt_policy_refresh (whole seconds of ioloop time)."""
    time.sleep(REFRESH + 1.1)


def open_seq(user, conn, seq, message_id):
    """FETCH BODY[] of seq in the open session conn; waits for the
    decision on message_id and returns it (the log line's fields)."""
    # the session learns of mail delivered since it was opened
    imap_check(conn.noop())
    fetch_body(conn, seq)
    lines, _ = user.wait_decision(message_id)
    return lines[-1]


def deliver_all(user, n):
    return [user.deliver(subject="Message %d" % (i + 1)) for i in range(n)]


# ---------------------------------------------------------------- userdb

def test_userdb_change_reaches_an_open_session(new_user, dovecot):
    user = new_user(**AUTO)
    mids = deliver_all(user, 3)
    offset = dovecot.log_size()
    conn = user.imap()
    try:
        d = open_seq(user, conn, "1", mids[0])
        assert (d["decision"], d["mode"]) == ("sent", "internal"), d
        user.wait_receipts(1)

        user.update_settings(readreceipt_mode="disabled")
        wait_refresh()
        d = open_seq(user, conn, "2", mids[1])
        assert (d["decision"], d["reason"], d["mode"]) == \
            ("suppressed", "mode_disabled", "disabled"), d
        assert len(user.receipts()) == 1

        user.update_settings(readreceipt_mode="internal")
        wait_refresh()
        d = open_seq(user, conn, "3", mids[2])
        assert (d["decision"], d["mode"]) == ("sent", "internal"), d
        user.wait_receipts(2)
    finally:
        conn.logout()
    events = changes(dovecot, user, offset)
    assert [(e["setting"], e["old"], e["new"], e["source"])
            for e in events] == [
        ("readreceipt_mode", "internal", "disabled", "userdb"),
        ("readreceipt_mode", "disabled", "internal", "userdb"),
    ], events
    assert len(changed_lines(dovecot, user, offset)) == 2


def test_change_is_told_once_across_sessions(new_user, dovecot):
    """Three sessions see the same change: one event."""
    user = new_user(**AUTO)
    mids = deliver_all(user, 3)
    conns = [user.imap() for _ in range(3)]
    try:
        offset = dovecot.log_size()
        user.update_settings(readreceipt_prompt="yes")
        wait_refresh()
        for i, conn in enumerate(conns):
            d = open_seq(user, conn, str(i + 1), mids[i])
            # prompt=yes and a session that cannot ask: the default
            # readreceipt_unprompted=defer, no attribute dict
            assert d["decision"] != "sent", d
    finally:
        for conn in conns:
            conn.logout()
    events = changes(dovecot, user, offset)
    assert [(e["setting"], e["new"]) for e in events] == \
        [("readreceipt_prompt", "yes")], events
    assert user.receipts() == []


def test_invalid_new_value_disables_receipts_and_says_so(new_user, dovecot):
    user = new_user(**AUTO)
    mids = deliver_all(user, 2)
    offset = dovecot.log_size()
    conn = user.imap()
    try:
        user.update_settings(readreceipt_mode="sometimes")
        wait_refresh()
        # the mail is still there: no lock-out
        body = fetch_body(conn, "1")
        assert b"Subject: Message 1" in body
        lines, _ = user.wait_decision(mids[0])
        d = lines[-1]
        assert (d["decision"], d["reason"]) == \
            ("suppressed", "invalid_settings"), d
        imap_check(conn.noop())
    finally:
        conn.logout()
    assert user.receipts() == []
    errors = [line.text for line in dovecot.log_lines(offset)
              if "Invalid settings, receipts are disabled for this user"
              in line.text and line.user == user.name]
    assert errors and 'readreceipt_mode: unknown value "sometimes"' in \
        errors[0], errors
    events = changes(dovecot, user, offset)
    assert len(events) == 1, events
    assert (events[0]["setting"], events[0]["old"], events[0]["new"]) == \
        ("readreceipt_mode", "internal", "disabled"), events
    assert "sometimes" in events[0]["error"], events


def test_prompt_queued_before_a_change_follows_the_policy_when_answered(
        new_user, dovecot):
    user = new_user(readreceipt_mode="internal", readreceipt_prompt="yes",
                    readreceipt_unprompted="defer",
                    readreceipt_policy_refresh="%ds" % REFRESH)
    path = os.path.join(dovecot.home(user.name), "dovecot-attributes")
    user.update_settings(**attribute_dict_settings(path))
    mid = user.deliver(subject="Please confirm")
    conn = user.imap()
    try:
        fetch_body(conn, "1")
        lines, _ = user.wait_decision(mid)
        assert (lines[-1]["decision"], lines[-1]["reason"]) == \
            ("queued", "unprompted"), lines
        user.update_settings(readreceipt_mode="disabled")
        wait_refresh()
        imap_check(setmetadata(conn, PENDING_PREFIX + "1", "send"))
        wait_until(lambda: len(user.wait_decision(mid)[0]) >= 2,
                   scaled(5), what="the answer's decision")
        d = user.wait_decision(mid)[0][-1]
    finally:
        conn.logout()
    assert (d["decision"], d["reason"], d["trigger"]) == \
        ("suppressed", "mode_disabled", "answer"), d
    assert user.receipts() == []


# ---------------------------------------------------------------- doveadm

def test_policy_shows_when_the_policy_was_first_seen(doveadm, new_user):
    user = new_user(**AUTO)
    first = user.doveadm("policy").rows[-1]
    assert first["setting"] == "seen", first
    # unchanged: the same time
    time.sleep(1.1)
    assert user.doveadm("policy").rows[-1]["value"] == first["value"]
    user.update_settings(readreceipt_mode="any")
    later = user.doveadm("policy").rows[-1]
    assert later["setting"] == "seen" and later["value"] > first["value"], \
        (first, later)


# ------------------------------------------------- configuration, reload

@pytest.fixture
def reloadable(workdir, sink, doveadm_module):
    """A private Dovecot whose global policy the test changes. With
    Dovecot's default shutdown_clients=yes a reload ends the sessions of the
    old configuration after a few seconds (the clients log in again, with
    the new one); with no they stay, and only the module brings them the
    change."""
    with running_dovecot(workdir, "dovecot-reload", sink, plugin_settings={
            "readreceipt_mode": "internal", "readreceipt_prompt": "no",
            "readreceipt_policy_refresh": "%ds" % REFRESH},
            global_settings={"shutdown_clients": "no"}) as dc:
        yield dc


def set_global_mode(dc, mode):
    dc.plugin_settings["readreceipt_mode"] = mode
    dc.write_config()
    dc.reload()
    # the processes of the old configuration stop taking connections
    time.sleep(1)


def deliver_after_reload(user, **kwargs):
    """Right after a reload, the LMTP process of the old configuration
    may still answer 421 (shutting down) or close the connection: deliver
    again until a new one takes the message."""
    deadline = time.time() + scaled(10)
    while True:
        try:
            return user.deliver(**kwargs)
        except (smtplib.SMTPResponseException,
                smtplib.SMTPServerDisconnected, OSError) as e:
            if getattr(e, "smtp_code", 421) != 421 or \
                    time.time() > deadline:
                raise
            time.sleep(0.2)


def test_global_change_and_reload_reach_an_open_session(reloadable, sink):
    dc = reloadable
    user = rrharness.MailUser(dc, sink, "carol-reload@example.com")
    first = user.deliver(subject="Before")
    offset = dc.log_size()
    conn = user.imap()
    try:
        d = open_seq(user, conn, "1", first)
        assert d["decision"] == "sent", d
        user.wait_receipts(1)

        set_global_mode(dc, "disabled")
        # the message arrives after the change: its delivery (a process
        # with the new configuration) records the new policy
        second = deliver_after_reload(user, subject="After")
        wait_refresh()
        d = open_seq(user, conn, "2", second)
        assert (d["decision"], d["reason"], d["mode"]) == \
            ("suppressed", "mode_disabled", "disabled"), d

        set_global_mode(dc, "internal")
        third = deliver_after_reload(user, subject="Again")
        wait_refresh()
        d = open_seq(user, conn, "3", third)
        assert (d["decision"], d["mode"]) == ("sent", "internal"), d
    finally:
        conn.logout()
    user.wait_receipts(2)
    events = changes(dc, user, offset)
    assert [(e["setting"], e["old"], e["new"], e["source"])
            for e in events] == [
        ("readreceipt_mode", "internal", "disabled",
         config_source("disabled")),
        ("readreceipt_mode", "disabled", "internal", "config"),
    ], events


def test_refresh_applies_a_change_at_once(reloadable, sink):
    """doveadm readreceipt refresh: the open session follows the new
    configuration at its next decision, without waiting."""
    dc = reloadable
    user = rrharness.MailUser(dc, sink, "dave-refresh@example.com",
                              readreceipt_policy_refresh="1h")
    mids = deliver_all(user, 2)
    offset = dc.log_size()
    conn = user.imap()
    try:
        d = open_seq(user, conn, "1", mids[0])
        assert d["decision"] == "sent", d
        set_global_mode(dc, "disabled")
        res = dc.doveadm("readreceipt", "refresh", "-u", user.name,
                         fmt="tab")
        assert res.rc == 0, res
        assert res.rows[0]["policy"] == "valid", res
        # the session's policy is an hour old at most: without the
        # refresh it would still send
        time.sleep(1.1)
        d = open_seq(user, conn, "2", mids[1])
        assert (d["decision"], d["reason"]) == \
            ("suppressed", "mode_disabled"), d
    finally:
        conn.logout()
    assert len(user.receipts()) == 1
    events = changes(dc, user, offset)
    assert [(e["setting"], e["new"], e["source"]) for e in events] == \
        [("readreceipt_mode", "disabled", config_source("disabled"))], \
        events
