"""The settings as Dovecot's own tools see them, on Dovecot 2.3 (plugin {})
and 2.4 (top-level settings, known to doveconf through the settings
module): doveconf shows them, and a typo in a value, in the config file or
in userdb, disables receipts for that user with a clear error and never
stops Dovecot or locks anyone out."""

import os
import subprocess

import pytest

import rrharness
from conftest import running_dovecot
from rrharness import fetch_body, wait_until, scaled

AUTO = {"readreceipt_mode": "internal", "readreceipt_prompt": "no"}


def doveconf(dc, *args):
    res = subprocess.run(["doveconf", "-c", dc.config_path] + list(args),
                         stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, timeout=scaled(30))
    return res


def open_first(user):
    conn = user.imap()
    try:
        return fetch_body(conn, "1")
    finally:
        conn.logout()


def invalid_settings_errors(dc, user, name):
    return [l for l in dc.log_lines()
            if l.user == user.name and l.level == "Error"
            and "Invalid settings" in l.text and name in l.text]


def test_doveconf_shows_the_settings(workdir, sink):
    with running_dovecot(workdir, "dovecot-doveconf", sink,
                         plugin_settings={"readreceipt_mode": "internal",
                                          "readreceipt_bulk_limit": "3"}
                         ) as dc:
        res = doveconf(dc, "-n")
        assert res.returncode == 0, res.stderr
        lines = [l.strip() for l in res.stdout.splitlines()]
        assert "readreceipt_mode = internal" in lines, res.stdout
        assert "readreceipt_bulk_limit = 3" in lines, res.stdout


@pytest.mark.skipif(not rrharness.DOVECOT_24,
                    reason="Dovecot 2.4: settings module for doveconf")
def test_settings_module_is_where_doveconf_finds_it(dovecot):
    """On 2.4 doveconf knows the settings only from the settings module in
    its compiled-in settings/ directory: installed there (the run links
    it), doveconf prints a setting's default."""
    path = os.path.join(rrharness.SETTINGS_MODULE_DIR,
                        rrharness.SETTINGS_MODULE_FILE)
    assert os.path.exists(path), path
    res = doveconf(dovecot, "-h", "readreceipt_mode")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() in ("disabled", "internal"), res.stdout


def test_typo_in_config_file_disables_receipts_only(workdir, sink):
    """readreceipt_mode = internl in the config file: Dovecot starts,
    doveconf accepts it, users log in and read mail, each session logs
    the error, and no receipt is sent."""
    with running_dovecot(workdir, "dovecot-typo", sink,
                         plugin_settings={"readreceipt_mode": "internl",
                                          "readreceipt_prompt": "no"}
                         ) as dc:
        res = doveconf(dc, "-n")
        assert res.returncode == 0, res.stderr
        user = rrharness.MailUser(dc, sink, "typo-conf@example.com")
        mid = user.deliver(subject="still readable")
        assert b"Subject: still readable" in open_first(user)
        wait_until(lambda: invalid_settings_errors(dc, user,
                                                   "readreceipt_mode"),
                   scaled(5), what="the invalid settings error")
        d = user.wait_decision(mid)[0][-1]
        assert (d["decision"], d["reason"]) == \
            ("suppressed", "invalid_settings"), d
        assert user.receipts() == []


def test_typo_in_userdb_disables_receipts_only_for_that_user(new_user,
                                                             dovecot):
    user = new_user(readreceipt_mode="sometimes", readreceipt_prompt="no")
    other = new_user(prefix="bob", **AUTO)
    mid = user.deliver(subject="still readable")
    assert b"Subject: still readable" in open_first(user)
    d = user.wait_decision(mid)[0][-1]
    assert (d["decision"], d["reason"]) == \
        ("suppressed", "invalid_settings"), d
    assert invalid_settings_errors(dovecot, user, "readreceipt_mode")
    assert user.receipts() == []
    # the other user is unaffected
    mid2 = other.deliver()
    open_first(other)
    assert other.wait_receipts(1, message_id=mid2)
