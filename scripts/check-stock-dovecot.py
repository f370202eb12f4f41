#!/usr/bin/python3
"""Checks that a stock Dovecot, without the readreceipt modules, starts and
serves mail.

scripts/test-package.sh runs it before the package is installed and after
it is purged. A private instance (tests/integration/rrharness.py with
load_plugin=False: its own base_dir and state, free loopback ports, the
stock modules of /usr/lib/dovecot/modules) must greet over IMAP, let a user
log in and select INBOX, and stop again; it is stopped by its master's pid.
The system's own /etc/dovecot is not started: its TLS certificate may be
missing (the instance would not start either way) and its ports taken.
"""

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "tests", "integration"))

import rrharness  # noqa: E402


def main():
    workdir = tempfile.mkdtemp(prefix="readreceipt-stock-")
    dc = rrharness.Dovecot(workdir=workdir, load_plugin=False, sieve=False)
    ok = False
    try:
        dc.start()
        dc.add_user("stock@example.com")
        conn = dc.imap("stock@example.com")
        try:
            rrharness.imap_check(conn.select("INBOX"))
        finally:
            conn.logout()
        problems = dc.problems()
        if problems:
            raise RuntimeError("\n".join(map(str, problems)))
        print("stock Dovecot started (pid %d), IMAP on 127.0.0.1:%d: "
              "login and SELECT INBOX work" % (dc.master_pid, dc.imap_port))
        ok = True
    except Exception as e:  # report whatever failed, then clean up
        print("stock Dovecot check failed: %s: %s" % (type(e).__name__, e),
              file=sys.stderr)
        sys.stderr.write(dc.log_tail() + "\n")
    finally:
        dc.stop()
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print("work directory kept: %s" % workdir, file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
