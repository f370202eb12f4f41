#!/usr/bin/python3
"""Demo: a private Dovecot with the readreceipt module and an SMTP sink on
127.0.0.1, a message that asks for a read receipt, and the receipt.

  demo.py            (re)start both, deliver a sample message, open it over
                     IMAP, print the receipt and the decision; deliver a
                     second one to a user who is asked first and leave it
                     waiting as a pending prompt; print admin and client
                     commands (lines starting with "  $ ") that work as
                     printed; leave both running
  demo.py --deliver  deliver one more sample message to alice
  demo.py --stop     stop both (by their recorded pids) and remove the
                     links the demo put into Dovecot's module directories

Run as root (scripts/demo.sh builds first and then runs this).
"""

import argparse
import json
import os
import shlex
import shutil
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

import rrharness  # noqa: E402

DEFAULT_WORKDIR = "/tmp/readreceipt-demo"
WORKDIR = os.path.abspath(os.environ.get("READRECEIPT_DEMO_DIR",
                                         DEFAULT_WORKDIR))
STATE = os.path.join(WORKDIR, "demo.json")
# alice's receipts leave without asking; bob is asked first
USER = "alice@example.com"
ASKED_USER = "bob@example.com"
PASSWORD = "secret"
SENDER = "boss@example.com"
USER_SETTINGS = {
    USER: {"readreceipt_mode": "internal", "readreceipt_prompt": "no"},
    ASKED_USER: {"readreceipt_mode": "internal", "readreceipt_prompt": "yes",
                 "readreceipt_unprompted": "defer"},
}
# what marks a command in the closing lines (tests/integration/test_demo.py
# runs every such line as printed)
COMMAND_MARK = "  $ "


def load_state():
    try:
        with open(STATE) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def remove_module_links():
    """The links to the demo's modules go with the demo: the one that makes
    its doveadm module loadable by doveadm (rrharness.DoveadmModule) and,
    on Dovecot 2.4, the one that makes its settings known to doveconf
    (rrharness.SettingsModule). Links of other runs stay."""
    for link in (os.path.join(rrharness.DOVEADM_MODULE_DIR,
                              rrharness.DOVEADM_MODULE_FILE),
                 os.path.join(rrharness.SETTINGS_MODULE_DIR,
                              rrharness.SETTINGS_MODULE_FILE)):
        if os.path.islink(link) and \
                os.readlink(link).startswith(WORKDIR + os.sep):
            os.unlink(link)


def stop(quiet=False):
    state = load_state()
    if state is None:
        remove_module_links()
        if not quiet:
            print("no demo is running (%s not found)" % STATE)
        return
    for name in ("dovecot_pid", "sink_pid"):
        pid = state.get(name)
        if pid and rrharness.pid_alive(pid):
            print("stopping %s (pid %d)" % (name.split("_")[0], pid))
            rrharness.stop_pid(pid, 30)
    os.unlink(STATE)
    remove_module_links()


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
    # users_file: one passwd-file without %variables, which doveadm can
    # iterate (-A); METADATA for the pending queue (the users' attribute
    # dicts come with their userdb fields)
    dc = rrharness.Dovecot(workdir=os.path.join(WORKDIR, "dovecot"),
                           submission_host=sink.address, users_file=True,
                           extra_config="protocol imap {\n"
                           "  imap_metadata = yes\n}\n")
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
    # doveadm loads its plugins from its own directory only: a link to
    # the demo's copy of the module, removed by --stop
    doveadm_module = rrharness.DoveadmModule(dc).install()

    # Receipts: only to the organisation (example.com); alice's leave
    # without asking, bob is asked first. Settings per user, as userdb
    # extra fields, with an attribute dict for the pending queue.
    for name, settings in USER_SETTINGS.items():
        dc.add_user(name, PASSWORD, **dict(
            settings, **rrharness.attribute_dict_settings(
                os.path.join(dc.home(name), "dovecot-attributes"))))
    raw = rrharness.make_message(SENDER, USER, "Quarterly report")
    message_id = rrharness.message_id_of(raw)
    dc.deliver(USER, raw)
    print("== delivered over LMTP to %s, from %s, with "
          "Disposition-Notification-To: %s" % (USER, SENDER, SENDER))

    conn = dc.imap(USER, PASSWORD)
    conn.select("INBOX")
    rrharness.fetch_body(conn, "1")
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

    asked_uid = queue_prompt(dc)
    print()
    print(closing_text(state, asked_uid, doveadm_module))
    return 0


def queue_prompt(dc):
    """Deliver a message to ASKED_USER and open it with a plain IMAP
    client, which cannot ask the user: the receipt waits as a pending
    prompt. Returns the message's UID."""
    raw = rrharness.make_message(SENDER, ASKED_USER, "Budget draft")
    dc.deliver(ASKED_USER, raw)
    conn = dc.imap(ASKED_USER, PASSWORD)
    conn.select("INBOX")
    uid = int(rrharness.imap_check(conn.uid("SEARCH", None, "ALL"))[0]
              .split()[-1])
    rrharness.imap_check(conn.uid("FETCH", str(uid), "(BODY[])"))
    conn.logout()
    print()
    print("== delivered a message to %s, whose policy asks first, and "
          "opened it with a plain IMAP client (it cannot ask): the "
          "receipt waits" % ASKED_USER)
    try:
        rrharness.wait_until(lambda: dc.decision_lines(ASKED_USER), 10,
                             what="the decision in the log")
    except TimeoutError:
        print("== no decision in the log yet (see %s)" % dc.log_path)
    for decision in dc.decision_lines(ASKED_USER):
        print(decision["_line"])
    return uid


def shell_words(*words):
    return " ".join(shlex.quote(str(w)) for w in words)


def commands(state, asked_uid):
    """[(command, what it shows)] of the closing lines: each one works as
    printed (as root)."""
    doveadm = shell_words("doveadm", "-c", state["config"], "readreceipt")
    demo = os.path.join(TOP, "scripts", "demo.sh")
    if WORKDIR != DEFAULT_WORKDIR:
        demo = "READRECEIPT_DEMO_DIR=%s %s" % (shlex.quote(WORKDIR),
                                               shlex.quote(demo))
    else:
        demo = shlex.quote(demo)
    pending = rrharness.PENDING_PREFIX.rstrip("/")
    return [
        ("%s policy -u %s" % (doveadm, USER),
         "%s's policy: each setting, its value and where it came from"
         % USER),
        ("%s list -u %s" % (doveadm, ASKED_USER),
         "the receipt that waits for %s's answer (UID %d)"
         % (ASKED_USER, asked_uid)),
        # (curl -X GETMETADATA would not print the untagged METADATA
        # reply: it shows only replies named like the command)
        ("python3 -c %s" % shlex.quote(
            'import imaplib; '
            'c = imaplib.IMAP4("127.0.0.1", %d); '
            'c.login("%s", "%s"); '
            'c.xatom("GETMETADATA", "(DEPTH infinity) INBOX (%s)"); '
            'print(c.response("METADATA"))' % (
                state["imap_port"], ASKED_USER, PASSWORD, pending)),
         "the same, as a mail client sees it (METADATA, RFC 5464): "
         "the entry pending/%d" % asked_uid),
        ("%s send -u %s INBOX %d" % (doveadm, ASKED_USER, asked_uid),
         "%s says yes: the receipt leaves (see the sink)" % ASKED_USER),
        ("%s flush -A" % doveadm,
         "sends what is owed for every user (the package's timer runs "
         "it)"),
        ("%s refresh -A" % doveadm,
         "after a change of the policy: in force at once"),
        ("ls %s" % shlex.quote(state["sink_dir"]),
         "the receipts that arrived at the sink"),
        (curl_command(state, 1),
         "%s's first message again: no second receipt" % USER),
        ("%s --deliver" % demo,
         "delivers one more message that asks for a receipt and prints "
         "the curl command that opens it"),
    ], "%s --stop" % demo


def closing_text(state, asked_uid, doveadm_module):
    lines = [
        "Both keep running:",
        "  IMAP  127.0.0.1:%(imap_port)d   POP3 127.0.0.1:%(pop3_port)d   "
        "LMTP 127.0.0.1:%(lmtp_port)d   (no TLS)" % state,
        "  users %s and %s, password %s" % (USER, ASKED_USER, PASSWORD),
        "  SMTP sink 127.0.0.1:%(sink_port)d, messages in %(sink_dir)s"
        % state,
        "  log   %(log)s   (tail -f it to watch decisions)" % state,
        "",
        "Try it (as root; with sudo, put sudo in front):",
    ]
    if doveadm_module.unusable is not None:
        lines.append("  (the doveadm commands need the doveadm module: %s)"
                     % doveadm_module.unusable)
    tried, stop_command = commands(state, asked_uid)
    for command, comment in tried:
        lines.append(COMMAND_MARK + command)
        lines.append("      " + comment)
    lines += [
        "",
        "Stop both (and remove the link to the demo's doveadm module in %s):"
        % rrharness.DOVEADM_MODULE_DIR,
        COMMAND_MARK + stop_command,
    ]
    return "\n".join(lines)


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
