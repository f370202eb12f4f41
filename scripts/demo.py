#!/usr/bin/python3
"""Demo: a private Dovecot with the readreceipt module and an SMTP sink on
127.0.0.1, a message that asks for a read receipt, and the receipt.

  demo.py            (re)start both, deliver a sample message, open it over
                     IMAP, print the receipt and the decision; leave both
                     running
  demo.py --deliver  deliver one more sample message to alice
  demo.py --stop     stop both (by their recorded pids)

Run as root (scripts/demo.sh builds first and then runs this).
"""

import argparse
import json
import os
import shutil
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

import rrharness  # noqa: E402

WORKDIR = os.environ.get("READRECEIPT_DEMO_DIR", "/tmp/readreceipt-demo")
STATE = os.path.join(WORKDIR, "demo.json")
USER = "alice@example.com"
PASSWORD = "secret"
SENDER = "boss@example.com"


def load_state():
    try:
        with open(STATE) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def stop(quiet=False):
    state = load_state()
    if state is None:
        if not quiet:
            print("no demo is running (%s not found)" % STATE)
        return
    for name in ("dovecot_pid", "sink_pid"):
        pid = state.get(name)
        if pid and rrharness.pid_alive(pid):
            print("stopping %s (pid %d)" % (name.split("_")[0], pid))
            rrharness.stop_pid(pid, 30)
    os.unlink(STATE)
    # Dovecot 2.4: the link that made the demo's settings known to
    # doveconf (see rrharness.SettingsModule) goes with the demo
    link = os.path.join(rrharness.SETTINGS_MODULE_DIR,
                        rrharness.SETTINGS_MODULE_FILE)
    if os.path.islink(link) and \
            os.readlink(link).startswith(WORKDIR + os.sep):
        os.unlink(link)


def deliver(state, subject):
    dc = rrharness.Dovecot(workdir=os.path.join(WORKDIR, "dovecot"))
    dc.lmtp_port = state["lmtp_port"]
    raw = rrharness.make_message(SENDER, USER, subject)
    dc.deliver(USER, raw)
    return raw


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stop", action="store_true")
    parser.add_argument("--deliver", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root")

    if args.stop:
        stop()
        return 0
    if args.deliver:
        state = load_state()
        if state is None:
            sys.exit("no demo is running; start it with scripts/demo.sh")
        deliver(state, "Another report (%s)" % time.strftime("%H:%M:%S"))
        print("delivered; open it (and so send its receipt) with:\n  %s"
              % curl_command(state, newest_uid(state)))
        print("then see %s" % state["sink_dir"])
        return 0

    stop(quiet=True)
    shutil.rmtree(WORKDIR, ignore_errors=True)
    os.makedirs(WORKDIR)
    os.chmod(WORKDIR, 0o755)

    sink = rrharness.SmtpSink(os.path.join(WORKDIR, "sink")).start()
    dc = rrharness.Dovecot(workdir=os.path.join(WORKDIR, "dovecot"),
                           submission_host=sink.address)
    try:
        dc.start()
    except Exception:
        sink.stop()
        raise
    state = {
        "dovecot_pid": dc.master_pid, "sink_pid": sink.pid,
        "imap_port": dc.imap_port, "pop3_port": dc.pop3_port,
        "lmtp_port": dc.lmtp_port, "sink_port": sink.port,
        "log": dc.log_path, "config": dc.config_path,
        "sink_dir": sink.msg_dir,
    }
    with open(STATE, "w") as f:
        json.dump(state, f, indent=2)

    # Receipts: only to the organisation (example.com), sent without
    # asking. Settings per user, as userdb extra fields.
    dc.add_user(USER, PASSWORD, readreceipt_mode="internal",
                readreceipt_prompt="no")
    raw = rrharness.make_message(SENDER, USER, "Quarterly report")
    message_id = rrharness.message_id_of(raw)
    dc.deliver(USER, raw)
    print("== delivered over LMTP to %s, from %s, with "
          "Disposition-Notification-To: %s" % (USER, SENDER, SENDER))

    conn = dc.imap(USER, PASSWORD)
    conn.select("INBOX")
    rrharness.fetch_body(conn, "1")
    flags = rrharness.fetch_flags(conn, "1")
    conn.logout()
    print("== opened it with IMAP FETCH 1 (BODY[])")

    try:
        receipt = sink.wait_for(1, timeout=10)[0]
    except TimeoutError:
        receipt = None
    try:
        rrharness.wait_until(
            lambda: dc.decision_lines(USER) and dc.decision_events(USER),
            10, what="the decision in the log")
    except TimeoutError:
        pass

    print()
    if receipt is None:
        print("== no receipt arrived at the sink (see %s)" % dc.log_path)
    else:
        print("== the receipt at the SMTP sink (MAIL FROM:<%s> RCPT TO:%s)"
              % (receipt.mail_from, ",".join(
                  "<%s>" % r for r in receipt.rcpt_tos)))
        print(receipt.raw.decode("utf-8", "replace").replace("\r\n", "\n"))
    print("== the decision, as the plugin logged it")
    for line in dc.log_lines():
        if line.text.startswith("readreceipt:"):
            print(str(line))
    print("== the readreceipt_decision event, as the JSON log exporter "
          "wrote it (fields abridged)")
    for event in dc.exported_events():
        fields = event.get("fields", {})
        if fields.get("message_id") != message_id:
            continue
        shown = dict(event, fields={
            k: v for k, v in fields.items()
            if k in rrharness.DECISION_KEYS or k in ("user", "error")})
        print(json.dumps(shown, indent=2))
    print()
    conn = dc.imap(USER, PASSWORD)
    conn.select("INBOX", readonly=True)
    flags = rrharness.fetch_flags(conn, "1")
    conn.logout()
    print("== flags of the message now: %s" % " ".join(sorted(flags)))

    print("""
Both keep running:
  IMAP  127.0.0.1:%(imap_port)d   POP3 127.0.0.1:%(pop3_port)d   \
LMTP 127.0.0.1:%(lmtp_port)d   (no TLS)
  user %(user)s   password %(password)s
  SMTP sink 127.0.0.1:%(sink_port)d, messages in %(sink_dir)s
  log   %(log)s   (tail -f it to watch decisions)

Try it:
  sudo %(top)s/scripts/demo.sh --deliver
      delivers one more message that asks for a receipt and prints the curl
      command that opens it (curl fetches BODY[], which marks it \\Seen)
  %(curl)s
      the first message again: no second receipt
  ls %(sink_dir)s

Stop both:
  sudo %(top)s/scripts/demo.sh --stop
  (or: sudo kill %(dovecot_pid)d %(sink_pid)d)""" % dict(
        state, user=USER, password=PASSWORD, top=TOP,
        curl=curl_command(state, 1)))
    return 0


def curl_command(state, uid):
    return "curl --user '%s:%s' 'imap://127.0.0.1:%d/INBOX;UID=%d'" % (
        USER, PASSWORD, state["imap_port"], uid)


def newest_uid(state):
    dc = rrharness.Dovecot(workdir=os.path.join(WORKDIR, "dovecot"))
    dc.imap_port = state["imap_port"]
    dc.users[USER] = (PASSWORD, {})
    conn = dc.imap(USER, PASSWORD)
    try:
        conn.select("INBOX", readonly=True)
        typ, data = conn.uid("SEARCH", None, "ALL")
        return int(data[0].split()[-1])
    finally:
        conn.logout()


if __name__ == "__main__":
    sys.exit(main())
