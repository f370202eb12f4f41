"""doveadm readreceipt policy|list|send|ignore|flush (SPEC §8).

doveadm runs as the administrator would run it, `doveadm -c <the private
instance's config> readreceipt ...`, with the doveadm module under test
(see rrharness.DoveadmModule). Tables are read with `-f tab`; one test
checks the default table. Exit codes are doveadm's: 67 unknown user, 68 no
such mailbox or message, 64 usage, 65 not possible, 75 temporary failure.

The commands that work on the pending queue (SPEC §6) are tested once the
storage module exports it (queue_implemented()); until then they are
skipped with that reason.
"""

import calendar
import re
import time

import pytest

import rrharness
from rrharness import (EX_NOTFOUND, EX_NOTPOSSIBLE, EX_NOUSER, EX_USAGE,
                       attribute_dict_settings, disposition_fields,
                       imap_check, queue_implemented)

BOSS = "boss@example.com"
# the documented settings, in the documented order (SPEC §2)
SETTING_NAMES = [
    "readreceipt_mode", "readreceipt_domains", "readreceipt_allow",
    "readreceipt_prompt", "readreceipt_user_email",
    "readreceipt_unprompted", "readreceipt_prompt_clients",
    "readreceipt_bulk_limit", "readreceipt_exclude",
    "readreceipt_max_per_hour", "readreceipt_hide_forbidden",
    "readreceipt_request", "readreceipt_submission_host",
    "readreceipt_submission_timeout", "readreceipt_reporting_ua",
    "readreceipt_include_headers", "readreceipt_pending_expire",
    "readreceipt_policy_refresh",
]
ISO_UTC_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

needs_queue = pytest.mark.skipif(
    not queue_implemented(),
    reason="the storage module does not export the pending queue yet "
           "(readreceipt_queue_list)")


# ---------------------------------------------------------------- helpers

def policy(user):
    """{setting: (value, source)} and the error row's value (or None)
    from doveadm readreceipt policy; checks that every setting is shown
    once, in the documented order, then the release's version."""
    res = user.doveadm("policy")
    assert res.rc == 0, res
    rows = res.rows
    names = [row["setting"] for row in rows]
    assert names[:len(SETTING_NAMES)] == SETTING_NAMES, res
    version = rows[len(SETTING_NAMES)]
    assert (version["setting"], version["value"], version["source"]) == \
        ("version", rrharness.project_version(), "-"), res
    extra = rows[len(SETTING_NAMES) + 1:]
    # then the error row (an invalid policy), and last when the policy
    # was first seen
    assert extra and extra[-1]["setting"] == "seen", res
    extra = extra[:-1]
    assert len(extra) <= 1 and all(r["setting"] == "error" for r in extra), \
        res
    table = {row["setting"]: (row["value"], row["source"])
             for row in rows[:len(SETTING_NAMES)]}
    return table, (extra[0]["value"] if extra else None)


def new_dict_user(new_user, dovecot, prefix="alice", **settings):
    """A user with an attribute dict (the name is only known once the user
    exists, so the field is added by rewriting it)."""
    user = new_user(prefix, **settings)
    user.settings = dict(settings, **attribute_dict_settings(
        "%s/dovecot-attributes" % dovecot.home(user.name)))
    dovecot.add_user(user.name, user.password, **user.settings)
    return user


def open_message(user, message_id):
    """FETCH BODY[] of the message in INBOX (an "open"), then wait for its
    decision; returns the message's UID."""
    conn = user.imap()
    try:
        uids = imap_check(conn.uid("SEARCH", None, "HEADER", "Message-ID",
                                   '"%s"' % message_id))[0].split()
        assert len(uids) == 1, uids
        typ, data = conn.uid("FETCH", uids[0], "(BODY[])")
        assert typ == "OK", data
    finally:
        conn.logout()
    user.wait_decision(message_id)
    return int(uids[0])


def uid_flags(user, uid, mailbox="INBOX"):
    conn = user.imap(mailbox=None)
    try:
        imap_check(conn.select(mailbox, readonly=True))
        data = imap_check(conn.uid("FETCH", str(uid), "(FLAGS)"))
        m = re.search(rb"FLAGS \(([^)]*)\)", data[0])
        assert m, data
        return set(m.group(1).decode().split())
    finally:
        conn.logout()


# ---------------------------------------------------------------- module

def test_commands_registered(doveadm):
    """The module loads and registers its five commands."""
    res = doveadm("readreceipt")
    assert res.rc == EX_USAGE, res
    for command in ("policy", "list", "send", "ignore", "flush"):
        assert re.search(r"(?m)^\s+%s\s" % command, res.stderr), res


def test_man_page_has_every_command(doveadm):
    """doveadm-readreceipt(1) has a section for each command that the
    loaded module registers (as doveadm's usage lists them)."""
    res = doveadm("readreceipt")
    registered = re.findall(r"(?m)^\s+(?:readreceipt\s+)?([a-z]+)\s+\[?-",
                            res.stderr)
    assert len(registered) >= 5, res
    with open(rrharness.MAN_PAGE) as f:
        sections = set(re.findall(r"(?m)^\.SS readreceipt ([a-z]+)$",
                                  f.read()))
    missing = set(registered) - sections
    assert not missing, "not in %s: %s" % (rrharness.MAN_PAGE, missing)


# ---------------------------------------------------------------- policy

def test_policy_defaults(doveadm, new_user):
    user = new_user()
    table, error = policy(user)
    assert error is None
    # conftest's configuration and the harness' submission settings
    assert table["readreceipt_hide_forbidden"] == ("no", "config")
    assert table["readreceipt_submission_host"] == (
        user.sink.address, "config")
    assert table["readreceipt_submission_timeout"] == ("2", "config")
    # set to its default in the configuration: Dovecot 2.4 cannot tell
    # that from the default (the README says so)
    assert table["readreceipt_mode"][0] == "disabled"
    # the rest is the module's defaults, derived ones included
    assert table["readreceipt_domains"] == ("example.com", "default")
    assert table["readreceipt_allow"] == ("", "default")
    assert table["readreceipt_prompt"] == ("yes", "default")
    assert table["readreceipt_user_email"] == (user.name, "default")
    assert table["readreceipt_unprompted"] == ("defer", "default")
    assert table["readreceipt_prompt_clients"] == (
        "Roundcube* Thunderbird*", "default")
    assert table["readreceipt_bulk_limit"] == ("1", "default")
    assert table["readreceipt_exclude"] == (
        "\\Sent \\Drafts \\Junk \\Trash", "default")
    assert table["readreceipt_max_per_hour"] == ("100", "default")
    assert table["readreceipt_request"] == ("strip", "default")
    assert table["readreceipt_reporting_ua"][0].endswith(
        "; dovecot-readreceipt/" + rrharness.project_version())
    assert table["readreceipt_reporting_ua"][1] == "default"
    assert table["readreceipt_include_headers"] == ("no", "default")
    assert table["readreceipt_pending_expire"] == ("30d", "default")
    assert table["readreceipt_policy_refresh"] == ("5m", "default")


def test_policy_userdb_overrides(doveadm, new_user):
    user = new_user(readreceipt_mode="internal",
                    readreceipt_allow="Partner@Example.ORG,"
                                      "@supplier.example.net",
                    readreceipt_user_email="Alice.Smith@Corp.Example",
                    # the same as the default, but set by userdb over
                    # plugin {}'s "no"
                    readreceipt_hide_forbidden="yes",
                    readreceipt_max_per_hour="0")
    table, error = policy(user)
    assert error is None
    assert table["readreceipt_mode"] == ("internal", "userdb")
    # shown as the module uses them: domains lowercased
    assert table["readreceipt_allow"] == (
        "Partner@example.org @supplier.example.net", "userdb")
    assert table["readreceipt_user_email"] == (
        "Alice.Smith@corp.example", "userdb")
    assert table["readreceipt_domains"] == ("corp.example", "default")
    assert table["readreceipt_hide_forbidden"] == ("yes", "userdb")
    assert table["readreceipt_max_per_hour"] == ("0", "userdb")
    # not overridden: still the configuration and defaults
    assert table["readreceipt_submission_timeout"] == ("2", "config")
    assert table["readreceipt_prompt"] == ("yes", "default")


def test_policy_command_line_override(doveadm, new_user):
    """doveadm -o wins over userdb; it is not the userdb's value."""
    user = new_user(readreceipt_mode="internal")
    res = doveadm("-o", rrharness.setting_override("readreceipt_mode", "any"),
                  "readreceipt", "policy", "-u", user.name, fmt="tab")
    assert res.rc == 0, res
    assert ("any", "config") in [(r["value"], r["source"]) for r in res.rows
                                 if r["setting"] == "readreceipt_mode"], res


def test_policy_for_several_users(doveadm, new_user, tmp_path):
    """-F (like -A): one table, a Username column, every user's settings."""
    alice = new_user("alice", readreceipt_mode="internal")
    bob = new_user("bob", readreceipt_mode="nonsense")
    users_file = tmp_path / "users"
    users_file.write_text("%s\n%s\n" % (alice.name, bob.name))
    res = doveadm("readreceipt", "policy", "-F", users_file, fmt="tab")
    assert res.rc == 0, res
    modes = {(r["Username"], r["value"], r["source"]) for r in res.rows
             if r["setting"] == "readreceipt_mode"}
    assert modes == {(alice.name, "internal", "userdb"),
                     (bob.name, "disabled", "userdb")}, res
    errors = [r["Username"] for r in res.rows if r["setting"] == "error"]
    assert errors == [bob.name], res
    versions = [r["Username"] for r in res.rows if r["setting"] == "version"]
    assert sorted(versions) == sorted([alice.name, bob.name]), res
    # each user: the settings, the version, when it was seen; bob: the
    # error
    assert len(res.rows) == 2 * (len(SETTING_NAMES) + 2) + 1, res


def test_policy_table_output(doveadm, new_user):
    """Without -f: doveadm's table, a title line and one line a setting."""
    user = new_user(readreceipt_mode="any")
    res = user.doveadm("policy", fmt=None)
    assert res.rc == 0, res
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["setting", "value", "source"], res
    assert len(lines) == 1 + len(SETTING_NAMES) + 2, res
    assert lines[1].split() == ["readreceipt_mode", "any", "userdb"], res
    assert lines[-2].split() == ["version", rrharness.project_version(),
                                 "-"], res
    assert lines[-1].split()[0] == "seen", res


@pytest.mark.parametrize("allow, named", [
    ("partner@example.org,bad@",
     'readreceipt_allow: entry 2 ("bad@"): invalid address'),
    (",".join("u%d@example.org" % i for i in range(1, 102)),
     'readreceipt_allow: entry 101 ("u101@example.org"): more than 100 '
     'entries'),
    ("partner@example.org,%s@example.org" % ("x" * 250),
     "readreceipt_allow: entry 2 (\"xxx"),
], ids=["unparsable", "101st-entry", "too-long"])
def test_policy_invalid_allow(doveadm, new_user, allow, named):
    """An invalid policy is shown, not failed: every setting as the module
    uses it (receipts disabled), then the error naming setting and entry."""
    user = new_user(readreceipt_mode="internal", readreceipt_allow=allow)
    table, error = policy(user)
    assert error is not None
    assert named in error, error
    assert "disabled" in error
    # what is in force: receipts off for this user
    assert table["readreceipt_mode"] == ("disabled", "userdb")
    assert table["readreceipt_allow"][1] == "userdb"


def test_policy_invalid_mode_keeps_other_values(doveadm, new_user):
    user = new_user(readreceipt_mode="sometimes", readreceipt_prompt="no")
    table, error = policy(user)
    assert error is not None and error.find(
        'readreceipt_mode: unknown value "sometimes"') >= 0, error
    assert table["readreceipt_mode"] == ("disabled", "userdb")
    assert table["readreceipt_prompt"] == ("no", "userdb")


def test_policy_module_not_enabled_for_user(doveadm, new_user):
    """A user whose mail_plugins leave the module out has no policy."""
    user = new_user(mail_plugins="quota")
    res = user.doveadm("policy")
    assert res.rc == EX_NOTPOSSIBLE, res
    assert "readreceipt is not enabled for this user" in res.stderr, res
    assert res.rows == [], res


# ---------------------------------------------------------------- users

@pytest.mark.parametrize("args", [
    ["policy"], ["list"], ["list", "INBOX"], ["send", "INBOX", "1"],
    ["ignore", "INBOX", "1"], ["flush"],
], ids=lambda a: "-".join(a))
def test_unknown_user(doveadm, args):
    res = doveadm("readreceipt", args[0], "-u", "nobody@example.com",
                  *args[1:])
    assert res.rc == EX_NOUSER, res
    assert "User doesn't exist" in res.stderr, res


# ---------------------------------------------------------------- arguments

def test_list_unknown_mailbox(doveadm, new_user):
    user = new_user()
    user.deliver()
    res = user.doveadm("list", "No/Such/Folder")
    assert res.rc == EX_NOTFOUND, res
    assert "No/Such/Folder" in res.stderr, res
    assert res.rows == [], res


@pytest.mark.parametrize("command", ["send", "ignore"])
def test_answer_unknown_message(doveadm, new_user, command):
    user = new_user()
    user.deliver()
    res = user.doveadm(command, "INBOX", "999")
    assert res.rc == EX_NOTFOUND, res
    assert "UID 999" in res.stderr, res

    res = user.doveadm(command, "No/Such/Folder", "1")
    assert res.rc == EX_NOTFOUND, res
    assert "No/Such/Folder" in res.stderr, res
    # nothing was answered
    assert "$MDNSent" not in uid_flags(user, 1)
    assert user.receipts() == []


@pytest.mark.parametrize("args", [
    ["INBOX"], ["INBOX", "0"], ["INBOX", "abc"], ["INBOX", "1", "2"],
], ids=["no-uid", "uid-0", "uid-abc", "extra"])
@pytest.mark.parametrize("command", ["send", "ignore"])
def test_answer_usage(doveadm, new_user, command, args):
    user = new_user()
    res = user.doveadm(command, *args)
    assert res.rc == EX_USAGE, res


@pytest.mark.parametrize("command", ["send", "ignore"])
def test_answer_is_for_one_user(doveadm, new_user, command):
    new_user()
    res = doveadm("readreceipt", command, "-A", "INBOX", "1")
    assert res.rc == EX_USAGE, res
    assert "-u" in res.stderr, res


@pytest.mark.parametrize("args", [["policy", "x"], ["list", "INBOX", "x"],
                                  ["flush", "x"]],
                         ids=lambda a: "-".join(a))
def test_extra_arguments(doveadm, new_user, args):
    user = new_user()
    res = user.doveadm(*args)
    assert res.rc == EX_USAGE, res


# ---------------------------------------------------------------- queue

QUEUEING = {"readreceipt_mode": "internal", "readreceipt_prompt": "yes",
            "readreceipt_unprompted": "defer"}


def queue_two(user):
    """Deliver two requesting messages and open each in plain IMAP: the
    user's consent is needed and the session cannot ask, so both wait.
    Returns [(uid, message_id, subject)]."""
    result = []
    for subject in ("First report", "Second report"):
        mid = user.deliver(subject=subject)
        result.append((open_message(user, mid), mid, subject))
    return result


@needs_queue
def test_list_empty(doveadm, new_user, dovecot):
    user = new_dict_user(new_user, dovecot)
    user.deliver(dnt=False)
    for args in ([], ["INBOX"]):
        res = user.doveadm("list", *args)
        assert res.rc == 0, res
        assert res.rows == [], res
        assert res.stdout.splitlines()[0].split("\t") == [
            "mailbox", "uid", "reason", "since", "to", "subject",
            "message_id"], res


@needs_queue
def test_list_without_attribute_dict(doveadm, new_user):
    user = new_user(**QUEUEING)
    res = user.doveadm("list")
    assert res.rc == 0, res
    assert res.rows == [], res
    assert "mail_attribute_dict" in res.stderr, res


@needs_queue
def test_list_shows_waiting_receipts(doveadm, new_user, dovecot):
    user = new_dict_user(new_user, dovecot, **QUEUEING)
    queued = queue_two(user)
    assert user.receipts() == []
    start = time.time()

    for args in ([], ["INBOX"]):
        res = user.doveadm("list", *args)
        assert res.rc == 0, res
        rows = sorted(res.rows, key=lambda r: int(r["uid"]))
        assert [(int(r["uid"]), r["message_id"], r["subject"])
                for r in rows] == queued, res
        for row in rows:
            assert row["mailbox"] == "INBOX"
            # consent needed, plain IMAP cannot ask, defer
            assert row["reason"] == "unprompted", row
            assert row["to"] == BOSS, row
            assert ISO_UTC_RE.match(row["since"]), row
            since = calendar.timegm(time.strptime(row["since"],
                                                  "%Y-%m-%dT%H:%M:%SZ"))
            assert abs(since - start) < 120, row


@needs_queue
def test_send_sends_manual_receipt(doveadm, new_user, dovecot):
    user = new_dict_user(new_user, dovecot, **QUEUEING)
    (uid, mid, _), (uid2, mid2, _) = queue_two(user)

    res = user.doveadm("send", "INBOX", uid)
    assert res.rc == 0, res
    receipts = user.wait_receipts(1)
    assert len(receipts) == 1, receipts
    fields = disposition_fields(receipts[0].msg)
    assert fields["disposition"].replace(" ", "") == \
        "manual-action/MDN-sent-manually;displayed", fields
    assert fields.get("original-message-id") == mid, fields
    assert receipts[0].mail_from == ""
    assert "$MDNSent" in uid_flags(user, uid)
    assert "$MDNSent" not in uid_flags(user, uid2)
    # only the other one still waits
    assert [r["message_id"] for r in user.doveadm("list").rows] == [mid2]

    # answered once: a second send sends nothing (now or later)
    user.doveadm("send", "INBOX", uid)
    assert user.doveadm("flush").rows[0]["sent"] == "0"
    time.sleep(0.5)
    assert len(user.receipts()) == 1


@needs_queue
def test_ignore_sets_mdnsent_only(doveadm, new_user, dovecot):
    user = new_dict_user(new_user, dovecot, **QUEUEING)
    (uid, _, _), (uid2, mid2, _) = queue_two(user)

    res = user.doveadm("ignore", "INBOX", uid)
    assert res.rc == 0, res
    assert "$MDNSent" in uid_flags(user, uid)
    assert user.receipts() == []
    assert [r["message_id"] for r in user.doveadm("list").rows] == [mid2]


@needs_queue
@pytest.mark.parametrize("command", ["send", "ignore"])
def test_answer_message_without_request(doveadm, new_user, dovecot,
                                        command):
    user = new_dict_user(new_user, dovecot, **QUEUEING)
    user.deliver(dnt=False)
    res = user.doveadm(command, "INBOX", "1")
    assert res.rc == EX_NOTFOUND, res
    assert user.receipts() == []


@needs_queue
def test_flush_sends_retries_once(doveadm, new_user, dovecot, sink,
                                  refused_port, tmp_path):
    """A receipt that failed temporarily (relay down) waits as retry;
    flush sends it once the relay is back, and only once."""
    auto = {"readreceipt_mode": "internal", "readreceipt_prompt": "no"}
    user = new_dict_user(new_user, dovecot,
                         readreceipt_submission_host="127.0.0.1:%d"
                         % refused_port, **auto)
    other = new_dict_user(new_user, dovecot, prefix="bob", **auto)
    mid = user.deliver()
    uid = open_message(user, mid)
    assert user.receipts() == []
    rows = user.doveadm("list").rows
    assert [(int(r["uid"]), r["reason"]) for r in rows] == [(uid, "retry")]

    # the relay is back
    settings = dict(user.settings)
    del settings["readreceipt_submission_host"]
    dovecot.add_user(user.name, user.password, **settings)

    users_file = tmp_path / "users"
    users_file.write_text("%s\n%s\n" % (user.name, other.name))
    res = doveadm("readreceipt", "flush", "-F", users_file, fmt="tab")
    assert res.rc == 0, res
    assert {r["Username"]: r["sent"] for r in res.rows} == {
        user.name: "1", other.name: "0"}, res
    receipts = user.wait_receipts(1)
    assert len(receipts) == 1, receipts
    assert disposition_fields(receipts[0].msg)[
        "original-message-id"] == mid
    assert "$MDNSent" in uid_flags(user, uid)
    assert user.doveadm("list").rows == []

    res = user.doveadm("flush")
    assert res.rc == 0, res
    assert [r["sent"] for r in res.rows] == ["0"], res
    assert len(user.receipts()) == 1
