"""A private Dovecot on loopback with the readreceipt plugin, an SMTP sink,
and protocol clients to drive them.

Used by the pytest suite (conftest.py) and by scripts/demo.py. Everything
started here is a separate process recorded by pid and stopped by that pid.

Environment:
  READRECEIPT_MODULE_DIR  directory holding lib20_readreceipt_plugin.so
                          (e.g. /usr/lib/dovecot/modules to test a package)
  READRECEIPT_BUILDDIR    top build directory; modules are taken from its
                          .libs/ (default: the source tree of this file)
  READRECEIPT_NO_PLUGIN   "yes": do not load the plugin (stock Dovecot only)
  READRECEIPT_NO_IMAP_MODULE  "yes": load the storage module without the
                          imap module (imap_readreceipt)
  VALGRIND                "yes": run imap, pop3, lmtp (and submission)
                          under valgrind
  RR_TIMEOUT_FACTOR       multiplies every timeout (default 1, 10 with
                          valgrind)

doveadm loads its plugins only from DOVEADM_MODULE_DIR: with
READRECEIPT_MODULE_DIR set the doveadm module is the one installed there,
otherwise DoveadmModule links the one under test there for the session.

The config is written in the syntax of the Dovecot that runs, 2.3 or 2.4
(DOVECOT_24); the tests are the same for both, and userdb fields whose
names differ come from helpers (attribute_dict_settings, ...). Dovecot 2.4
reads a config with readreceipt_* settings only when the settings module
is in SETTINGS_MODULE_DIR: SettingsModule links the one under test there
while instances run (with READRECEIPT_MODULE_DIR: the installed one).
"""

import collections
import email
import email.policy
import filecmp
import glob
import imaplib
import json
import os
import poplib
import pwd
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
import uuid
from email.utils import formatdate

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"
SINK_SCRIPT = os.path.join(HERE, "smtp_sink.py")

# what make install and the package install as doveadm-readreceipt(1)
MAN_PAGE = os.path.join(SOURCE_ROOT, "docs", "man", "doveadm-readreceipt.1")


def project_version():
    """The release, as configure.ac's AC_INIT writes it (the one place it
    is written): what the modules under test report."""
    with open(os.path.join(SOURCE_ROOT, "configure.ac")) as f:
        m = re.search(r"^AC_INIT\(\[[^]]*\], \[([^]]+)\]", f.read(), re.M)
    assert m, "no AC_INIT version in configure.ac"
    return m.group(1)


DOVECOT_BIN = "/usr/sbin/dovecot"
DOVECOT_LIBEXEC = "/usr/lib/dovecot"
STOCK_MODULE_DIR = "/usr/lib/dovecot/modules"
VALGRIND_BIN = "/usr/bin/valgrind"
# Dovecot's own known reports (not this project's): see the file
VALGRIND_SUPPRESSIONS = os.path.join(os.path.dirname(os.path.abspath(
    __file__)), "valgrind.supp")
MODULE_FILE = "lib20_readreceipt_plugin.so"
IMAP_MODULE_FILE = "lib30_imap_readreceipt_plugin.so"
SIEVE_MODULE_FILE = "lib90_sieve_readreceipt_plugin.so"
DOVEADM_BIN = "/usr/bin/doveadm"
# compiled into doveadm: its plugins load from nowhere else
DOVEADM_MODULE_DIR = "/usr/lib/dovecot/modules/doveadm"
DOVEADM_MODULE_FILE = "lib30_doveadm_readreceipt_plugin.so"
# doveadm's exit codes (sysexits.h, doveadm.h)
EX_USAGE = 64
EX_NOTPOSSIBLE = 65
EX_NOUSER = 67
EX_NOTFOUND = 68
EX_TEMPFAIL = 75
SUBMISSION_MODULE_FILE = "lib30_submission_readreceipt_plugin.so"
# Dovecot 2.4 only: what tells the config process (doveconf) the
# readreceipt_* settings. It reads such modules from nowhere else than
# SETTINGS_MODULE_DIR (compiled in): see SettingsModule.
SETTINGS_MODULE_FILE = "lib20_readreceipt_settings.so"
SETTINGS_MODULE_DIR = "/usr/lib/dovecot/modules/settings"
MAIL_USER = "vmail"

DECISION_KEYS = ("decision", "reason", "trigger", "mode", "mailbox", "uid",
                 "message_id", "recipient")
DECISION_EVENT = "readreceipt_decision"
POLICY_CHANGED_EVENT = "readreceipt_policy_changed"
SUBMISSION_EVENT = "readreceipt_submission"
SUBMISSION_KEYS = ("action", "reason", "kind", "message_id", "recipient")

# valgrind lines that are notices about valgrind itself, not memory errors
VALGRIND_NOTICE_RE = re.compile(
    r"Warning: set address range perms|could not unlink .*vgdb|"
    r"Warning: noted but unhandled ioctl|"
    r"This could cause spurious value errors|"
    r"See README_MISSING_SYSCALL_OR_IOCTL|"
    r"^==\d+== ?$")


# The inbox namespace with the special-use mailboxes readreceipt_exclude
# names by default: the same in the syntax of 2.3 and of 2.4.
NAMESPACE_CONFIG = """namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
}
"""


def dovecot_version():
    """The version of DOVECOT_BIN as a tuple of ints, e.g. (2, 3, 19, 1);
    None when it is not installed."""
    try:
        out = subprocess.run([DOVECOT_BIN, "--version"],
                             stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    m = re.match(r"\s*(\d+(?:\.\d+)+)", out)
    return tuple(int(x) for x in m.group(1).split(".")) if m else None


# The configuration is written in the syntax of the Dovecot that runs:
# 2.3 (plugin {} settings, mail_location, ...) or 2.4 (typed top-level
# settings, named filters, %{variables}). Only the config writer and a
# few helpers below depend on it; the tests are the same for both.
DOVECOT_VERSION = dovecot_version()
DOVECOT_24 = DOVECOT_VERSION is not None and DOVECOT_VERSION[:2] >= (2, 4)
# dovecot_config_version and dovecot_storage_version of a 2.4 config: the
# syntax and defaults this harness was written for (older 2.4 releases
# get their own version: they refuse a newer one)
CONFIG_VERSION_24 = (2, 4, 1)


def config_version_24():
    version = min(DOVECOT_VERSION or CONFIG_VERSION_24, CONFIG_VERSION_24)
    return ".".join(map(str, version))


def env_flag(name):
    return os.environ.get(name, "").lower() in ("1", "yes", "true", "on")


VALGRIND = env_flag("VALGRIND")
TIMEOUT_FACTOR = float(os.environ.get("RR_TIMEOUT_FACTOR",
                                      "10" if VALGRIND else "1"))


def scaled(seconds):
    """A timeout, stretched when processes run slower (valgrind)."""
    return seconds * TIMEOUT_FACTOR


def wait_until(predicate, timeout, interval=0.02, what="condition"):
    """Poll predicate() until it returns a true value; return that value.
    Raises TimeoutError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.1fs waiting for %s"
                               % (timeout, what))
        time.sleep(interval)


# ---------------------------------------------------------------- ports

_handed_out_ports = set()


def free_port():
    """A loopback TCP port that nobody listens on right now (and that this
    process has not handed out before)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out_ports:
            _handed_out_ports.add(port)
            return port
    raise RuntimeError("no free port found")


def refused_port():
    """A free port where a connection is refused (nobody listens)."""
    for _ in range(20):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            try:
                s.connect(("127.0.0.1", port))
            except ConnectionRefusedError:
                return port
    raise RuntimeError("no refusing port found")


def port_open(port, host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        try:
            s.connect((host, port))
            return True
        except OSError:
            return False


# ---------------------------------------------------------------- processes

def pid_alive(pid):
    """TRUE while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        # gone before the open, or between the open and the read (ESRCH)
        return False
    # state is the field after the parenthesized command name
    return stat[stat.rindex(")") + 2] != "Z"


def child_pids(pid):
    """Direct children of pid."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            children.append(int(entry))
    return children


def proc_comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def _hex_endpoint(address):
    host, port = address[:2]
    packed = socket.inet_aton(host)
    # /proc/net/tcp writes the address as a host-order 32-bit number
    return "%08X:%04X" % (int.from_bytes(packed, "little"), port)


def tcp_socket_inode(local, remote):
    """The inode of the IPv4 TCP socket whose local and remote addresses
    are these ((host, port) pairs), from /proc/net/tcp; None if none."""
    want = (_hex_endpoint(local), _hex_endpoint(remote))
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if (fields[1], fields[2]) == want and int(fields[9]) != 0:
                return int(fields[9])
    return None


def stop_pid(pid, timeout, sig=signal.SIGTERM, reap=None):
    """Send sig to pid and wait until it is gone. reap: a Popen to wait()
    on when pid is our own child (so that no zombie stays)."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
    if reap is not None:
        try:
            reap.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError("pid %d did not exit within %.1fs"
                               % (pid, timeout))
        return
    wait_until(lambda: not pid_alive(pid), timeout,
               what="pid %d to exit" % pid)


# ---------------------------------------------------------------- messages

def make_message(frm, to, subject, dnt=True, cc=None, extra_headers=(),
                 return_path=None, message_id=None, body=None,
                 content_type=None, date=None):
    """Raw RFC 5322 message bytes with CRLF line endings.

    frm, to, cc: addresses (a list becomes a comma-separated header).
    dnt: Disposition-Notification-To: True = the From address, a string or
    list = those addresses, None/False = no header.
    extra_headers: (name, value) pairs or a dict, added after the others.
    return_path: adds a Return-Path header (for APPEND; Dovecot.deliver()
    turns it into the LMTP MAIL FROM instead).
    message_id: default a unique one; "" for none.
    content_type: default text/plain; charset=utf-8 (give body to match).
    """
    def addrs(value):
        return value if isinstance(value, str) else ", ".join(value)

    if message_id is None:
        message_id = "<%s@example.com>" % uuid.uuid4().hex
    headers = []
    if return_path is not None:
        headers.append(("Return-Path", "<%s>" % return_path))
    headers += [
        ("From", addrs(frm)),
        ("To", addrs(to)),
    ]
    if cc:
        headers.append(("Cc", addrs(cc)))
    headers.append(("Subject", subject))
    headers.append(("Date", date or formatdate(localtime=True)))
    if message_id:
        headers.append(("Message-ID", message_id))
    if dnt is True:
        dnt = frm
    if dnt:
        headers.append(("Disposition-Notification-To", addrs(dnt)))
    headers.append(("MIME-Version", "1.0"))
    headers.append(("Content-Type",
                    content_type or "text/plain; charset=utf-8"))
    if isinstance(extra_headers, dict):
        extra_headers = list(extra_headers.items())
    headers += list(extra_headers)
    if body is None:
        body = "Hello,\n\nplease confirm that you have seen this.\n"
    text = "".join("%s: %s\r\n" % (k, v) for k, v in headers)
    body = body.replace("\r\n", "\n").replace("\n", "\r\n")
    return (text + "\r\n" + body).encode("utf-8")


def message_id_of(raw):
    """The Message-ID header of raw, or None."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    value = msg["Message-ID"]
    return value.strip() if value is not None else None


def split_return_path(raw):
    """If raw starts with a Return-Path header, return (address, the
    message without it); else (None, raw)."""
    m = re.match(rb"Return-Path:[ \t]*<([^>]*)>[ \t]*\r?\n", raw,
                 re.IGNORECASE)
    if m is None:
        return None, raw
    return m.group(1).decode(), raw[m.end():]


# ---------------------------------------------------------------- SMTP sink

class SinkMessage:
    """One message that arrived at the sink."""

    def __init__(self, info, raw):
        self.eml = info["eml"]
        self.mail_from = info["mail_from"]
        self.rcpt_tos = info["rcpt_tos"]
        # the RCPT TO arguments as sent, e.g. '<"john doe"@example.org>'
        self.rcpt_args = info.get("rcpt_args", [])
        self.time = info["time"]
        # the session had switched to TLS (STARTTLS) before MAIL FROM
        self.tls = bool(info.get("tls"))
        # the client's address and port: one per connection
        self.peer = tuple(info["peer"]) if info.get("peer") else None
        self.raw = raw
        self.msg = email.message_from_bytes(raw, policy=email.policy.default)

    def __getitem__(self, name):
        return self.msg[name]

    def __repr__(self):
        return "<SinkMessage from=%r to=%r subject=%r>" % (
            self.mail_from, self.rcpt_tos, self.msg["Subject"])


class SmtpSink:
    """A separate sink process (smtp_sink.py) on 127.0.0.1.

    mode: accept, reject (550 to RCPT), tempfail (451 to RCPT), hang (no
    greeting). data_delay: seconds the reply to DATA waits (changed later
    with set_data_delay()); a message counts as arrived only once its 250
    was written to a connection still open. tls: offer STARTTLS with a
    self-signed certificate made at start (cert_file); require_tls: refuse
    MAIL FROM before it. idle_timeout: seconds of client silence before
    the sink closes the connection."""

    def __init__(self, directory, mode="accept", data_delay=0, tls=False,
                 require_tls=False, idle_timeout=None):
        self.directory = os.path.abspath(directory)
        self.mode = mode
        self.data_delay = data_delay
        self.tls = tls
        self.require_tls = require_tls
        self.idle_timeout = idle_timeout
        self.msg_dir = os.path.join(self.directory, "messages")
        self.pidfile = os.path.join(self.directory, "sink.pid")
        self.portfile = os.path.join(self.directory, "sink.port")
        self.logfile = os.path.join(self.directory, "sink.log")
        self.delay_file = os.path.join(self.directory, "data-delay")
        self.cert_file = os.path.join(self.directory, "cert.pem")
        self.proc = None
        self.pid = None
        self.port = None

    def start(self, timeout=10):
        os.makedirs(self.msg_dir, exist_ok=True)
        # the certificate is read by the mail processes (as the mail user)
        os.chmod(self.directory, 0o755)
        for path in (self.pidfile, self.portfile, self.delay_file):
            if os.path.exists(path):
                os.unlink(path)
        cmd = [PYTHON, SINK_SCRIPT, "--dir", self.msg_dir,
               "--mode", self.mode, "--pidfile", self.pidfile,
               "--portfile", self.portfile]
        if self.data_delay:
            cmd += ["--data-delay", str(self.data_delay)]
        if self.tls:
            cmd += ["--tls", "--cert-dir", self.directory]
        if self.require_tls:
            cmd += ["--require-tls"]
        if self.idle_timeout is not None:
            cmd += ["--idle-timeout", str(self.idle_timeout)]
        with open(self.logfile, "ab") as log:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True, close_fds=True)
        self.pid = self.proc.pid

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("SMTP sink exited (%d), see %s"
                                   % (self.proc.returncode, self.logfile))
            return os.path.exists(self.portfile)
        wait_until(ready, scaled(timeout), what="SMTP sink to listen")
        with open(self.portfile) as f:
            self.port = int(f.read())
        return self

    def set_data_delay(self, seconds):
        """From now on the reply to DATA waits this long (0: none)."""
        tmp = self.delay_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%s\n" % seconds)
        os.rename(tmp, self.delay_file)

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def stop(self, timeout=10):
        if self.pid is None:
            return
        stop_pid(self.pid, timeout, reap=self.proc)
        self.pid = None

    def _records(self, prefix):
        names = sorted(n for n in os.listdir(self.msg_dir)
                       if n.endswith(".json") and n.startswith(prefix)
                       and n[len(prefix)].isdigit())
        records = []
        for name in names:
            with open(os.path.join(self.msg_dir, name)) as f:
                records.append(json.load(f))
        return records

    def _settle(self, timeout=3):
        """The sink writes a message's .eml before its 250 reply and its
        .json right after: wait (bounded) until no message is half
        written, so that a client that saw the 250 also sees the
        message here."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            names = set(os.listdir(self.msg_dir))
            half = [n for n in names if n.endswith(".eml") and
                    n[:1].isdigit() and n[:-4] + ".json" not in names]
            if not half:
                return
            time.sleep(0.01)

    def messages(self, rcpt=None, frm=None):
        """Accepted messages, oldest first. rcpt: only those with this
        envelope recipient; frm: only those whose From header contains
        this address."""
        self._settle()
        result = []
        for info in self._records(""):
            with open(os.path.join(self.msg_dir, info["eml"]), "rb") as f:
                m = SinkMessage(info, f.read())
            if rcpt is not None and rcpt not in m.rcpt_tos:
                continue
            if frm is not None and frm.lower() not in str(
                    m.msg.get("From", "")).lower():
                continue
            result.append(m)
        return result

    def rejected(self):
        """RCPT TO attempts refused in reject mode."""
        return self._records("rejected-")

    def connections(self):
        """Connections seen in hang mode."""
        return self._records("conn-")

    def received(self):
        """Envelopes whose data arrived while the reply to DATA was
        delayed (data_delay), in order: the client then waits for it."""
        return self._records("data-")

    def dropped(self):
        """Envelopes whose client went away before the reply to DATA (they
        are not among messages())."""
        return self._records("dropped-")

    def wait_received(self, n, timeout=5):
        """Wait until the data of at least n delayed messages arrived."""
        wait_until(lambda: len(self.received()) >= n, scaled(timeout),
                   what="%d delayed DATA at the sink" % n)
        return self.received()

    def wait_for(self, n, timeout=5, **filters):
        """Wait until at least n messages (matching filters, see
        messages()) arrived; return them all."""
        wait_until(lambda: len(self.messages(**filters)) >= n,
                   scaled(timeout), what="%d message(s) at the sink" % n)
        return self.messages(**filters)

    def find(self, needle):
        """Accepted messages whose raw bytes contain needle, oldest first
        (without parsing the others)."""
        result = []
        for info in self._records(""):
            with open(os.path.join(self.msg_dir, info["eml"]), "rb") as f:
                raw = f.read()
            if needle in raw:
                result.append(SinkMessage(info, raw))
        return result

    def remove(self, message):
        """Forget one message (e.g. a large one that later look-ups
        should not read again)."""
        # the record first: a record always has its message
        os.unlink(os.path.join(self.msg_dir,
                               message.eml[:-len(".eml")] + ".json"))
        os.unlink(os.path.join(self.msg_dir, message.eml))

    def clear(self):
        for name in os.listdir(self.msg_dir):
            os.unlink(os.path.join(self.msg_dir, name))

    def __enter__(self):
        return self.start() if self.pid is None else self

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------- log

LOG_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%{usecs} "
LOG_LINE_RE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) "
    r"(?P<source>.*?): "
    r"(?P<level>Debug|Info|Warning|Error|Fatal|Panic): "
    r"(?P<text>.*)$")
LOG_SOURCE_RE = re.compile(
    r"^(?P<service>[\w-]+)"
    r"(?:\((?P<context>[^)]*)\))?"
    r"(?:<(?P<pid>\d+)>)?"
    r"(?:<(?P<session>[^>]*)>)?")
DECISION_PREFIX = "readreceipt: decision="
SUBMISSION_PREFIX = "readreceipt: action="
# the master's report of a process that crashed or exited with an error
# (valgrind's --error-exitcode=99 shows up as "returned error 99")
CHILD_DIED_RE = re.compile(
    r"child (?P<pid>\d+) (killed with signal|returned error)")
KV_RE = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)')


class LogLine:
    def __init__(self, m, offset):
        self.time = m.group("time")
        self.source = m.group("source")
        self.level = m.group("level")
        self.text = m.group("text")
        self.offset = offset
        s = LOG_SOURCE_RE.match(self.source)
        self.service = s.group("service")
        context = s.group("context")
        self.pid = s.group("pid")
        self.session = s.group("session")
        # "lmtp(1234)" carries a pid, "imap(user)<1234>" a user
        if context is not None and context.isdigit() and self.pid is None:
            self.pid, context = context, None
        self.user = context

    def __str__(self):
        return "%s %s: %s: %s" % (self.time, self.source, self.level,
                                  self.text)

    __repr__ = __str__


def unquote_value(value):
    if not value.startswith('"'):
        return value
    return re.sub(r"\\(.)", r"\1", value[1:-1])


def parse_decision_text(text, prefix=DECISION_PREFIX):
    """'readreceipt: decision=sent reason=... recipient=...' -> dict in the
    order of the line, or None if text is not a decision line (a line that
    starts with prefix). Raises ValueError if it is one but does not
    parse."""
    # LMTP puts its own prefix first ("lmtp-server: conn ... rcpt ...: ")
    start = 0 if text.startswith(prefix) else text.find(": " + prefix)
    if start < 0:
        return None
    if start > 0:
        start += 2
    rest = text[start + len("readreceipt:"):]
    fields = {}
    pos = 0
    while pos < len(rest):
        m = KV_RE.match(rest, pos)
        if m is None or m.end() == pos:
            if rest[pos:].strip() == "":
                break
            raise ValueError("unparsable decision line: %r" % text)
        fields[m.group(1)] = unquote_value(m.group(2))
        pos = m.end()
    return fields


# ---------------------------------------------------------------- Dovecot

def ensure_mail_user(name=MAIL_USER):
    """The system user that owns the mail (created if missing)."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", name], check=True)
        return pwd.getpwnam(name)


def conf_value(value):
    value = str(value)
    if value == "" or re.search(r'[\s"#{}]', value):
        return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')
    return value


# ---- Dovecot 2.4 config syntax

# settings that are lists (boollists) in 2.4 and strings in 2.3
BOOLLIST_SETTINGS_24 = ("mail_plugins", "sieve_plugins", "sieve_extensions",
                        "sieve_global_extensions")
# imapsieve's 2.3 plugin settings, e.g. imapsieve_mailbox1_before
IMAPSIEVE_MAILBOX_RE = re.compile(
    r"^imapsieve_mailbox(\d+)_(name|causes|before|after|from)$")


def indent(text, prefix="  "):
    return "".join(prefix + line if line.strip() else line
                   for line in text.splitlines(True))


def boollist_24(key, items):
    """A 2.4 list setting: key { item = yes ... }. An item of a 2.3 list
    may start with + (add: yes) or - (remove: no)."""
    body = ""
    for item in items:
        enabled = "no" if item.startswith("-") else "yes"
        body += "  %s = %s\n" % (conf_value(item.lstrip("+-")), enabled)
    return "%s {\n%s}\n" % (key, body)


def sieve_script_24(name, location, **extra):
    """A 2.4 sieve_script section from a 2.3 script location such as
    "file:~/sieve;active=~/.dovecot.sieve" (driver:path;key=value...).
    extra: more settings of the section (type, cause, ...); empty ones
    are left out."""
    driver, _, rest = location.partition(":")
    if not rest:
        driver, rest = "file", location
    parts = rest.split(";")
    settings = [("type", extra.pop("type", "")), ("driver", driver),
                ("path", parts[0])]
    for part in parts[1:]:
        key, _, value = part.partition("=")
        settings.append(({"active": "active_path"}.get(key, key), value))
    settings += sorted(extra.items())
    body = "".join("  %s = %s\n" % (key, conf_value(value))
                   for key, value in settings if value != "")
    return "sieve_script %s {\n%s}\n" % (name, body)


def inet_listener_config(service, listener, port):
    """A service section with one TCP listener on 127.0.0.1, for
    extra_config (e.g. service managesieve-login, listener sieve). 2.4
    has no address per listener: there the global listen (127.0.0.1)
    applies."""
    address = "" if DOVECOT_24 else "    address = 127.0.0.1\n"
    return ("service %s {\n"
            "  inet_listener %s {\n"
            "%s"
            "    port = %d\n"
            "  }\n"
            "}\n" % (service, listener, address, port))


# ---- per-user settings whose userdb fields differ between versions

def setting_override(name, value):
    """The argument of doveadm -o that overrides a readreceipt_* setting:
    plugin/NAME=VALUE on Dovecot 2.3, NAME=VALUE on 2.4."""
    if DOVECOT_24:
        return "%s=%s" % (name, value)
    return "plugin/%s=%s" % (name, value)


def attribute_dict_settings(path):
    """The userdb fields that give a user a file attribute dict at path
    (for METADATA and the pending queue), for add_user(**...) or
    MailUser.update_settings(**...). A user without them has none."""
    if DOVECOT_24:
        return {"mail_attribute/dict": "file",
                "mail_attribute/dict/file/dict_driver": "file",
                "mail_attribute/dict/file/dict_file_path": path}
    return {"mail_attribute_dict": "file:" + path}


def has_attribute_dict(settings):
    """TRUE when a user's settings (MailUser.settings) hold an attribute
    dict (attribute_dict_settings)."""
    return any(key == "mail_attribute_dict" or
               key.startswith("mail_attribute/") for key in settings)


def sieve_before_settings(path):
    """The userdb fields that run the Sieve script at path before the
    user's personal one."""
    if DOVECOT_24:
        return {"sieve_script+": "before",
                "sieve_script/before/sieve_script_type": "before",
                "sieve_script/before/sieve_script_driver": "file",
                "sieve_script/before/sieve_script_path": path}
    return {"sieve_before": path}


def queue_implemented():
    """TRUE when the storage module under test exports the pending queue
    (SPEC §6) that the doveadm commands list, send, ignore and flush use."""
    path = os.path.join(Dovecot.modules_under_test_dir(), MODULE_FILE)
    try:
        out = subprocess.run(["nm", "-D", "--defined-only", path],
                             capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return False
    return re.search(r"(?m) T readreceipt_queue_list$", out) is not None


class DoveadmResult:
    """What one doveadm run printed and returned. rows: with -f tab, the
    table as a list of {column title: value}."""

    def __init__(self, cmd, completed):
        self.cmd = cmd
        self.rc = completed.returncode
        self.stdout = completed.stdout.decode("utf-8", "replace")
        self.stderr = completed.stderr.decode("utf-8", "replace")

    @property
    def rows(self):
        lines = self.stdout.splitlines()
        if not lines:
            return []
        titles = lines[0].split("\t")
        return [dict(zip(titles, line.split("\t"))) for line in lines[1:]]

    def __repr__(self):
        return "<doveadm %s: rc=%d\nstdout:\n%s\nstderr:\n%s>" % (
            " ".join(self.cmd), self.rc, self.stdout, self.stderr)


class DoveadmModule:
    """Makes the doveadm module under test loadable for a session.

    doveadm loads its plugins only from DOVEADM_MODULE_DIR. When the module
    under test is an installed one (READRECEIPT_MODULE_DIR), it is already
    there. Otherwise a link to the instance's copy of the module is placed
    there and removed again by remove(). A file that is already there is
    never replaced: if it is the same as the module under test (also a
    link of another run, e.g. a running demo's, which goes when that run
    ends) it is used, else `unusable` says why the doveadm tests cannot
    run."""

    def __init__(self, dovecot):
        self.path = os.path.join(DOVEADM_MODULE_DIR, DOVEADM_MODULE_FILE)
        self.source = os.path.join(dovecot.module_dir, DOVEADM_MODULE_FILE)
        self.load_plugin = dovecot.load_plugin
        self.linked = False
        self.unusable = None

    def install(self):
        if not self.load_plugin:
            self.unusable = "the readreceipt plugin is not loaded"
            return self
        if os.environ.get("READRECEIPT_MODULE_DIR"):
            if not os.path.exists(self.path):
                self.unusable = "%s is not installed" % self.path
            return self
        if not os.path.exists(self.source):
            raise RuntimeError("%s was not built (make)"
                               % DOVEADM_MODULE_FILE)
        if os.path.islink(self.path) and not os.path.exists(self.path):
            # a link of a test run that was killed: its target is gone
            os.unlink(self.path)
        if os.path.lexists(self.path):
            # an installed copy, or another run's link (the demo's, a
            # test session's), of the same module: used, left as it is
            if filecmp.cmp(self.path, self.source, shallow=False):
                return self
            self.unusable = (
                "%s exists and is not the module under test (an installed "
                "package, or another test run); test the installed one "
                "with READRECEIPT_MODULE_DIR=%s" % (
                    self.path, os.path.dirname(DOVEADM_MODULE_DIR)))
            return self
        os.symlink(self.source, self.path)
        self.linked = True
        return self

    def remove(self):
        if self.linked and os.path.islink(self.path) and \
                os.readlink(self.path) == self.source:
            os.unlink(self.path)
        self.linked = False


class SettingsModule:
    """Dovecot 2.4: makes the readreceipt_* settings known to the config
    process (dovecot, doveconf, doveadm -c ...), which loads the settings
    modules of plugins only from SETTINGS_MODULE_DIR. Without it a config
    that names one of them is refused, and Dovecot does not start.

    When the module under test is an installed one (READRECEIPT_MODULE_DIR),
    its package put it there. Otherwise a link to an instance's copy of the
    module is placed there while instances of this process run: each one
    calls acquire() before it starts and release() once it has stopped;
    the link goes with the last one. As with DoveadmModule, a file that is
    already there is never replaced: it is used if it is the same as the
    module under test, otherwise acquire() fails and says why. A link left
    by a run that was killed (its target is gone) is removed."""

    _shared = None

    def __init__(self, source):
        self.path = os.path.join(SETTINGS_MODULE_DIR, SETTINGS_MODULE_FILE)
        self.source = source
        self.linked = False
        self.made_dir = False
        self.users = 0

    @classmethod
    def acquire(cls, dovecot):
        """The shared SettingsModule, installed, with one more user; None
        when dovecot does not need one (Dovecot 2.3, or without the
        plugin)."""
        if not (DOVECOT_24 and dovecot.load_plugin):
            return None
        if cls._shared is None:
            module = cls(os.path.join(dovecot.module_dir,
                                      SETTINGS_MODULE_FILE))
            module._install()
            cls._shared = module
        cls._shared.users += 1
        return cls._shared

    def _install(self):
        if os.environ.get("READRECEIPT_MODULE_DIR"):
            if not os.path.exists(self.path):
                raise RuntimeError(
                    "%s is not installed: Dovecot %s does not know the "
                    "readreceipt_* settings without it"
                    % (self.path, ".".join(map(str, DOVECOT_VERSION))))
            return
        if not os.path.exists(self.source):
            raise RuntimeError("%s was not built (make, against Dovecot "
                               "2.4)" % SETTINGS_MODULE_FILE)
        if os.path.islink(self.path) and not os.path.exists(self.path):
            # a link of a test run that was killed: its target is gone
            os.unlink(self.path)
        if os.path.lexists(self.path):
            # as in DoveadmModule.install
            if filecmp.cmp(self.path, self.source, shallow=False):
                return
            raise RuntimeError(
                "%s exists and is not the module under test (an installed "
                "package, or another test run; a link that a killed run "
                "left behind can go); test the installed one with "
                "READRECEIPT_MODULE_DIR=%s" % (self.path, STOCK_MODULE_DIR))
        if not os.path.isdir(SETTINGS_MODULE_DIR):
            os.mkdir(SETTINGS_MODULE_DIR, 0o755)
            self.made_dir = True
        os.symlink(self.source, self.path)
        self.linked = True

    def release(self):
        self.users -= 1
        if self.users > 0:
            return
        if self.linked and os.path.islink(self.path) and \
                os.readlink(self.path) == self.source:
            os.unlink(self.path)
        self.linked = False
        if self.made_dir:
            try:
                os.rmdir(SETTINGS_MODULE_DIR)
            except OSError:
                pass
            self.made_dir = False
        if SettingsModule._shared is self:
            SettingsModule._shared = None


class Dovecot:
    """One private Dovecot instance: config, users, clients, log."""

    PROTOCOL_SERVICES = ("imap", "pop3", "lmtp")

    def __init__(self, workdir=None, submission_host=None,
                 plugin_settings=None, load_plugin=None, valgrind=None,
                 debug=False, sieve=True, extra_config="",
                 imap_module=None, imap_plugins=(), sieve_module=None,
                 submission_relay=None, global_settings=None,
                 users_file=False):
        if workdir is None:
            workdir = tempfile.mkdtemp(prefix="readreceipt-test-")
        self.workdir = os.path.abspath(workdir)
        self.submission_host = submission_host
        self.plugin_settings = dict(plugin_settings or {})
        if load_plugin is None:
            load_plugin = not env_flag("READRECEIPT_NO_PLUGIN")
        self.load_plugin = load_plugin
        # imap_module: also load imap_readreceipt in imap (default: yes
        # whenever the storage module is loaded). imap_plugins: more
        # mail_plugins for imap only, e.g. ("imap_sieve",).
        if imap_module is None:
            imap_module = not env_flag("READRECEIPT_NO_IMAP_MODULE")
        self.imap_module = load_plugin and imap_module
        self.imap_plugins = tuple(imap_plugins)
        # sieve_module: load sieve_readreceipt in LMTP's Sieve and enable
        # vnd.readreceipt (default: whenever Sieve and the storage module
        # are loaded and the module was built).
        self.sieve_module = sieve_module
        self.valgrind = VALGRIND if valgrind is None else valgrind
        self.debug = debug
        self.sieve = sieve
        self.extra_config = extra_config
        # top-level settings written right after the harness' own (before
        # any section), e.g. {"submission_host": "127.0.0.1:2525",
        # "submission_ssl": "starttls", "sendmail_path": "/path/to/script"}
        self.global_settings = dict(global_settings or {})
        # "host:port" of the MTA that Dovecot's submission service relays
        # to; None: no submission service
        self.submission_relay = submission_relay
        # users_file: every user in one passwd-file (users_path) instead
        # of one file per user under users.d: a path without %variables,
        # so that doveadm can iterate the users (-A). Each change rewrites
        # the whole file.
        self.users_file = users_file
        self.instance_name = "readreceipt-test-%s" % uuid.uuid4().hex[:8]

        self.base_dir = os.path.join(self.workdir, "run")
        self.state_dir = os.path.join(self.workdir, "state")
        self.mail_root = os.path.join(self.workdir, "mail")
        self.module_dir = os.path.join(self.workdir, "modules")
        self.valgrind_dir = os.path.join(self.workdir, "valgrind")
        self.config_path = os.path.join(self.workdir, "dovecot.conf")
        self.users_dir = os.path.join(self.workdir, "users.d")
        self.users_path = os.path.join(self.workdir, "users")
        self.log_path = os.path.join(self.workdir, "dovecot.log")
        self.pidfile = os.path.join(self.base_dir, "master.pid")

        self.imap_port = self.pop3_port = self.lmtp_port = None
        self.submission_port = None
        self.master_pid = None
        self.users = {}
        self.message_ids = collections.defaultdict(set)
        self._users_mtime = 0
        self._log_cache = []
        self._log_parsed_to = 0
        self.mail_pw = None
        # pids killed on purpose (kill_session): their deaths are no crash
        self.killed_pids = set()
        # Dovecot 2.4: the SettingsModule this instance holds while it runs
        self._settings_module = None

    # ---- configuration

    def protocol_services(self):
        services = list(self.PROTOCOL_SERVICES)
        if self.submission_relay:
            services.append("submission")
        return services

    @staticmethod
    def modules_under_test_dir():
        d = os.environ.get("READRECEIPT_MODULE_DIR")
        if d:
            return d
        builddir = os.environ.get("READRECEIPT_BUILDDIR", SOURCE_ROOT)
        return os.path.join(builddir, ".libs")

    def _link_modules(self):
        """mail_plugin_dir: links to the stock modules plus copies of the
        ones under test."""
        if os.path.isdir(self.module_dir):
            shutil.rmtree(self.module_dir)
        os.makedirs(self.module_dir)
        # The stock Sieve plugins too (sieve_imapsieve, ...): this folder
        # is also sieve_plugin_dir when the Sieve module is tested.
        for path in glob.glob(os.path.join(STOCK_MODULE_DIR, "lib*.so")) + \
                glob.glob(os.path.join(STOCK_MODULE_DIR, "sieve", "lib*.so")):
            if "readreceipt" not in os.path.basename(path):
                os.symlink(path, os.path.join(self.module_dir,
                                              os.path.basename(path)))
        if not self.load_plugin:
            return
        test_dir = self.modules_under_test_dir()
        wanted = [MODULE_FILE] + ([IMAP_MODULE_FILE] if self.imap_module
                                  else [])
        for name in wanted:
            if not os.path.exists(os.path.join(test_dir, name)):
                raise RuntimeError("%s not found in %s (build it with make, "
                                   "or set READRECEIPT_MODULE_DIR)"
                                   % (name, test_dir))
        # Copied, not linked: the mail processes (running as the mail user)
        # must be able to read them wherever the build tree is, and a
        # rebuild during a run must not change what this instance loads.
        # An installed tree keeps the Sieve module in modules/sieve.
        for path in glob.glob(os.path.join(test_dir, "lib*readreceipt*.so")) \
                + glob.glob(os.path.join(test_dir, "sieve",
                                         SIEVE_MODULE_FILE)):
            dest = os.path.join(self.module_dir, os.path.basename(path))
            shutil.copyfile(os.path.realpath(path), dest)
            os.chmod(dest, 0o755)
        if self.sieve_module is None:
            self.sieve_module = self.sieve and os.path.exists(
                os.path.join(self.module_dir, SIEVE_MODULE_FILE))

    def _service_executable(self, service):
        path = os.path.join(DOVECOT_LIBEXEC, service)
        if not self.valgrind:
            return path
        # Leak checking stays off: Dovecot's pools are freed wholesale at
        # exit. Every memory error is reported and fails the run.
        return " ".join([
            VALGRIND_BIN, "-q", "--error-exitcode=99",
            "--leak-check=no", "--track-origins=yes", "--vgdb=no",
            "--suppressions=%s" % VALGRIND_SUPPRESSIONS,
            "--log-file=%s/vg.%s.%%p.log" % (self.valgrind_dir, service),
            "--num-callers=30", path])

    def config_text(self):
        """dovecot.conf of this instance, in the syntax of the Dovecot that
        runs (see DOVECOT_24)."""
        if DOVECOT_24:
            return self._config_text_24()
        return self._config_text_23()

    def _passwd_file_path(self):
        """The passwd-file of passdb and userdb, as the config names it
        (%variables in the syntax of the Dovecot that runs)."""
        if self.users_file:
            return self.users_path
        return os.path.join(self.users_dir,
                            "%{user}" if DOVECOT_24 else "%u")

    def _config_text_23(self):
        pw = self.mail_pw
        lines = []
        add = lines.append
        plugins = "$mail_plugins readreceipt" if self.load_plugin \
            else "$mail_plugins"
        add("""# generated by rrharness.py
instance_name = %(instance)s
base_dir = %(base_dir)s
state_dir = %(state_dir)s
log_path = %(log)s
info_log_path = %(log)s
debug_log_path = %(log)s
log_timestamp = "%(ts)s"
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
protocols = %(protocols)s
first_valid_uid = %(uid)d
first_valid_gid = %(gid)d
mail_location = maildir:~/Maildir
mail_plugin_dir = %(module_dir)s
mail_plugins = %(plugins)s
auth_debug = %(debug)s
mail_debug = %(debug)s
log_debug = %(log_debug)s
%(global_settings)s

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %(users)s
}
userdb {
  driver = passwd-file
  args = username_format=%%u %(users)s
}

%(namespace)s
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %(imap_port)d
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = %(pop3_port)d
  }
  inet_listener pop3s {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = %(lmtp_port)d
  }
}

# Every readreceipt_decision event is written to the log as JSON.
event_exporter log {
  format = json
  format_args = time-rfc3339
  transport = log
}
metric readreceipt_decision {
  exporter = log
  exporter_include = name hostname timestamps categories fields
  filter = event=%(event)s
}
metric readreceipt_policy_changed {
  exporter = log
  exporter_include = name hostname timestamps categories fields
  filter = event=%(policy_event)s
}
""" % dict(instance=self.instance_name, base_dir=self.base_dir,
           namespace=NAMESPACE_CONFIG,
           state_dir=self.state_dir, log=self.log_path,
           ts=LOG_TIMESTAMP_FORMAT,
           uid=pw.pw_uid, gid=pw.pw_gid, module_dir=self.module_dir,
           plugins=plugins, debug="yes" if self.debug else "no",
           log_debug="category=readreceipt" if self.debug else "",
           users=self._passwd_file_path(), imap_port=self.imap_port,
           pop3_port=self.pop3_port, lmtp_port=self.lmtp_port,
           event=DECISION_EVENT, policy_event=POLICY_CHANGED_EVENT,
           global_settings="".join(
               "%s = %s\n" % (k, conf_value(v))
               for k, v in self.global_settings.items()),
           protocols=" ".join(self.protocol_services())))
        if self.submission_relay:
            add(self._submission_config_23())

        imap_plugins = (("imap_readreceipt",) if self.imap_module else ()) \
            + self.imap_plugins
        if imap_plugins:
            add("""protocol imap {
  mail_plugins = $mail_plugins %s
}
""" % " ".join(imap_plugins))
        if self.sieve:
            add("""protocol lmtp {
  mail_plugins = $mail_plugins sieve
}
""")
        if self.valgrind:
            add("""default_vsz_limit = 0
import_environment = TZ CORE_OUTOFMEM CORE_ERROR LISTEN_PID LISTEN_FDS NOTIFY_SOCKET GDB=1
""")
            for service in self.protocol_services():
                add("service %s {\n  executable = %s\n}\n"
                    % (service, self._service_executable(service)))

        plugin = self._plugin_settings()
        add("plugin {")
        for key, value in plugin.items():
            add("  %s = %s" % (key, conf_value(value)))
        add("}")
        if self.extra_config:
            add(self.extra_config)
        return "\n".join(lines) + "\n"

    def _plugin_settings(self):
        """What 2.3 has in plugin {}: the Sieve settings, the module's and
        plugin_settings (which win), as {2.3 name: value} in order. The
        2.4 writer translates them (_plugin_config_24)."""
        plugin = {}
        if self.sieve:
            plugin["sieve"] = "file:~/sieve;active=~/.dovecot.sieve"
        if self.sieve and self.load_plugin and self.sieve_module:
            # Pigeonhole loads its plugins from sieve_plugin_dir, here
            # the same folder as the mail plugins.
            plugin["sieve_plugin_dir"] = self.module_dir
            plugin["sieve_plugins"] = "sieve_readreceipt"
            plugin["sieve_extensions"] = "+vnd.readreceipt"
        if self.submission_host:
            plugin["readreceipt_submission_host"] = self.submission_host
        plugin["readreceipt_submission_timeout"] = 2
        plugin.update(self.plugin_settings)
        return plugin

    def _submission_config_23(self):
        relay_host, relay_port = self.submission_relay.rsplit(":", 1)
        text = """service submission-login {
  inet_listener submission {
    address = 127.0.0.1
    port = %(port)d
  }
  inet_listener submissions {
    port = 0
  }
}
submission_relay_host = %(relay_host)s
submission_relay_port = %(relay_port)s
# What the submission module did with each message, as JSON in the log.
metric readreceipt_submission {
  exporter = log
  exporter_include = name hostname timestamps categories fields
  filter = event=%(event)s
}
""" % dict(port=self.submission_port, relay_host=relay_host,
           relay_port=relay_port, event=SUBMISSION_EVENT)
        if self.load_plugin and os.path.exists(os.path.join(
                self.modules_under_test_dir(), SUBMISSION_MODULE_FILE)):
            text += """protocol submission {
  mail_plugins = $mail_plugins submission_readreceipt
}
"""
        return text

    # ---- configuration: Dovecot 2.4

    def _config_text_24(self):
        pw = self.mail_pw
        lines = []
        add = lines.append
        version = config_version_24()
        add("""# generated by rrharness.py
dovecot_config_version = %(version)s
dovecot_storage_version = %(version)s
instance_name = %(instance)s
base_dir = %(base_dir)s
state_dir = %(state_dir)s
log_path = %(log)s
info_log_path = %(log)s
debug_log_path = %(log)s
log_timestamp = "%(ts)s"
listen = 127.0.0.1
ssl = no
auth_allow_cleartext = yes
auth_mechanisms = plain login
protocols = %(protocols)s
first_valid_uid = %(uid)d
first_valid_gid = %(gid)d
mail_driver = maildir
mail_path = ~/Maildir
mail_plugin_dir = %(module_dir)s
auth_debug = %(debug)s
mail_debug = %(debug)s
log_debug = %(log_debug)s
%(global_settings)s
# see _write_user
passdb passwd-file {
  passwd_file_path = %(users)s
}
userdb passwd-file {
  passwd_file_path = %(users)s
}

%(namespace)s
service imap-login {
  inet_listener imap {
    port = %(imap_port)d
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %(pop3_port)d
  }
  inet_listener pop3s {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    port = %(lmtp_port)d
  }
}

# Every readreceipt_decision event is written to the log as JSON.
event_exporter log {
  driver = log
  format = json
  time_format = rfc3339
}
metric readreceipt_decision {
  exporter = log
  exporter_include = name hostname timestamps categories fields
  filter = event=%(event)s
}
metric readreceipt_policy_changed {
  exporter = log
  exporter_include = name hostname timestamps categories fields
  filter = event=%(policy_event)s
}
""" % dict(version=version, instance=self.instance_name,
           namespace=NAMESPACE_CONFIG,
           base_dir=self.base_dir, state_dir=self.state_dir,
           log=self.log_path, ts=LOG_TIMESTAMP_FORMAT,
           uid=pw.pw_uid, gid=pw.pw_gid, module_dir=self.module_dir,
           debug="yes" if self.debug else "no",
           log_debug="category=readreceipt" if self.debug else "",
           users=self._passwd_file_path(), imap_port=self.imap_port,
           pop3_port=self.pop3_port, lmtp_port=self.lmtp_port,
           event=DECISION_EVENT, policy_event=POLICY_CHANGED_EVENT,
           global_settings="".join(
               "%s = %s\n" % (k, conf_value(v))
               for k, v in self.global_settings.items()),
           protocols=" ".join(self.protocol_services())))
        if self.load_plugin:
            add(boollist_24("mail_plugins", ["readreceipt"]))
        if self.submission_relay:
            add(self._submission_config_24())

        imap_plugins = (("imap_readreceipt",) if self.imap_module else ()) \
            + self.imap_plugins
        if imap_plugins:
            add("protocol imap {\n%s}\n"
                % indent(boollist_24("mail_plugins", imap_plugins)))
        if self.sieve:
            add("protocol lmtp {\n%s}\n"
                % indent(boollist_24("mail_plugins", ["sieve"])))
        if self.valgrind:
            add("""default_vsz_limit = unlimited
import_environment {
  GDB = 1
}
""")
            for service in self.protocol_services():
                add("service %s {\n  executable = %s\n}\n"
                    % (service, self._service_executable(service)))
        add(self._plugin_config_24(self._plugin_settings()))
        if self.extra_config:
            add(self.extra_config)
        return "\n".join(lines) + "\n"

    def _plugin_config_24(self, plugin):
        """2.3's plugin {} settings (see _plugin_settings) as 2.4 settings:
        most keep their name at the top level; the Sieve script location,
        the lists and imapsieve's numbered mailbox settings become the
        sections that replaced them."""
        lines = []
        imapsieve = collections.defaultdict(dict)
        for key, value in plugin.items():
            value = str(value)
            m = IMAPSIEVE_MAILBOX_RE.match(key)
            if m:
                imapsieve[int(m.group(1))][m.group(2)] = value
            elif key == "sieve":
                lines.append(sieve_script_24("personal", value))
            elif key in BOOLLIST_SETTINGS_24:
                lines.append(boollist_24(key, value.split()))
            elif key.startswith("readreceipt_") and not self.load_plugin:
                # known to doveconf only through the settings module
                continue
            else:
                lines.append("%s = %s\n" % (key, conf_value(value)))
        for n in sorted(imapsieve):
            mailbox = imapsieve[n]
            scripts = "".join(
                sieve_script_24("imapsieve%d-%s" % (n, kind), mailbox[kind],
                                type=kind, cause=mailbox.get("causes", ""))
                for kind in ("before", "after") if kind in mailbox)
            if "from" in mailbox:
                scripts = "imapsieve_from %s {\n%s}\n" % (
                    conf_value(mailbox["from"]), indent(scripts))
            lines.append("mailbox %s {\n%s}\n" % (
                conf_value(mailbox.get("name", "*")), indent(scripts)))
        return "".join(lines)

    def _submission_config_24(self):
        relay_host, relay_port = self.submission_relay.rsplit(":", 1)
        text = """service submission-login {
  inet_listener submission {
    port = %(port)d
  }
  inet_listener submissions {
    port = 0
  }
}
submission_relay_host = %(relay_host)s
submission_relay_port = %(relay_port)s
# What the submission module did with each message, as JSON in the log.
metric readreceipt_submission {
  exporter = log
  exporter_include = name hostname timestamps categories fields
  filter = event=%(event)s
}
""" % dict(port=self.submission_port, relay_host=relay_host,
           relay_port=relay_port, event=SUBMISSION_EVENT)
        if self.load_plugin and os.path.exists(os.path.join(
                self.modules_under_test_dir(), SUBMISSION_MODULE_FILE)):
            text += "protocol submission {\n%s}\n" % indent(
                boollist_24("mail_plugins", ["submission_readreceipt"]))
        return text

    def write_config(self):
        self.mail_pw = ensure_mail_user()
        for d in (self.workdir, self.state_dir, self.valgrind_dir):
            os.makedirs(d, exist_ok=True)
        # dovenull/dovecot must be able to traverse to base_dir
        os.chmod(self.workdir, 0o755)
        os.makedirs(self.mail_root, exist_ok=True)
        os.chown(self.mail_root, self.mail_pw.pw_uid, self.mail_pw.pw_gid)
        os.chmod(self.mail_root, 0o750)
        if self.valgrind:
            os.chmod(self.valgrind_dir, 0o1777)
        self._link_modules()
        if self.imap_port is None:
            self.imap_port = free_port()
            self.pop3_port = free_port()
            self.lmtp_port = free_port()
            self.submission_port = free_port()
        os.makedirs(self.users_dir, exist_ok=True)
        os.chmod(self.users_dir, 0o755)
        if self.users_file and not os.path.exists(self.users_path):
            # Dovecot reads a passwd-file without %variables at start
            with open(self.users_path, "w"):
                pass
            os.chmod(self.users_path, 0o644)
        with open(self.config_path, "w") as f:
            f.write(self.config_text())

    # ---- lifecycle

    def start(self, timeout=15):
        self.write_config()
        # Dovecot 2.4 reads the config only with the settings module
        self._settings_module = SettingsModule.acquire(self)
        try:
            self._start(timeout)
        except BaseException:
            if self.master_pid is None:
                self._release_settings_module()
            raise
        return self

    def _release_settings_module(self):
        if self._settings_module is not None:
            self._settings_module.release()
            self._settings_module = None

    def _start(self, timeout):
        env = dict(os.environ)
        if self.valgrind:
            env["GDB"] = "1"
        # The master daemonizes and keeps its stdio: give it a file, not a
        # pipe, or we would wait for EOF forever.
        startup_log = os.path.join(self.workdir, "startup.log")
        with open(startup_log, "w") as out:
            res = subprocess.run([DOVECOT_BIN, "-c", self.config_path],
                                 env=env, stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=subprocess.STDOUT)
        if res.returncode != 0:
            with open(startup_log) as f:
                output = f.read()
            raise RuntimeError("dovecot failed to start (%d):\n%s\n%s"
                               % (res.returncode, output, self.log_tail()))
        self.master_pid = wait_until(self._read_master_pid, scaled(timeout),
                                     what="master.pid")
        wait_until(self._imap_greets, scaled(timeout),
                   what="IMAP greeting on port %d" % self.imap_port)

    def _read_master_pid(self):
        try:
            with open(self.pidfile) as f:
                return int(f.read().strip() or 0)
        except FileNotFoundError:
            return None

    def _imap_greets(self):
        try:
            with socket.create_connection(("127.0.0.1", self.imap_port),
                                          timeout=scaled(2)) as s:
                return s.recv(100).startswith(b"* OK")
        except OSError:
            return False

    def processes(self):
        """Pids of the master and everything below it."""
        if self.master_pid is None or not pid_alive(self.master_pid):
            return []
        pids, todo = [], [self.master_pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            todo.extend(child_pids(pid))
        return pids

    def session_pid(self, conn, timeout=5):
        """The pid of the Dovecot process (imap, pop3, ...) that serves
        the client connection conn (an imaplib/poplib/smtplib object or a
        socket): the one below this instance's master that holds the
        server end of that TCP connection. Login processes are skipped
        (they hand the connection over after login)."""
        sock = getattr(conn, "sock", conn)
        client = sock.getsockname()
        server = sock.getpeername()

        def find():
            inode = tcp_socket_inode(server, client)
            if inode is None:
                return None
            target = "socket:[%d]" % inode
            for pid in self.processes():
                if pid == self.master_pid or "login" in proc_comm(pid):
                    continue
                try:
                    fds = os.listdir("/proc/%d/fd" % pid)
                except (FileNotFoundError, PermissionError):
                    continue
                for fd in fds:
                    try:
                        if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == \
                                target:
                            return pid
                    except OSError:
                        continue
            return None
        return wait_until(find, scaled(timeout),
                          what="the process serving %s:%d" % client)

    def kill_session(self, conn, sig=signal.SIGKILL):
        """Send sig to the process serving conn (see session_pid); with
        SIGKILL wait until it is gone. Its death is expected: problems()
        does not count it. Returns the pid."""
        pid = self.session_pid(conn)
        if sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSEGV,
                   signal.SIGABRT):
            self.killed_pids.add(pid)
        os.kill(pid, sig)
        if sig == signal.SIGKILL:
            wait_until(lambda: not pid_alive(pid), scaled(10),
                       what="pid %d to die" % pid)
        return pid

    def stop(self, timeout=20):
        """TERM the master and wait until it and all its children are gone
        (valgrind writes its report only when a process exits)."""
        if self.master_pid is None:
            self._release_settings_module()
            return
        pids = self.processes()
        stop_pid(self.master_pid, scaled(timeout))
        for pid in pids:
            wait_until(lambda: not pid_alive(pid), scaled(timeout),
                       what="dovecot process %d to exit" % pid)
        self.master_pid = None
        self._release_settings_module()

    def reload(self):
        subprocess.run(["doveadm", "-c", self.config_path, "reload"],
                       check=True)

    # ---- users

    def _write_user(self, name):
        """One passwd-file per user (passdb and userdb read
        users.d/<user name>), or with users_file all in one. Dovecot stats
        a passwd-file at most once per second and re-reads it when its
        mtime or size changed; a new file is read at its first lookup. So
        a user's file is written once when the user is created; rewriting
        it (changed settings, or another user in the one file) waits for
        the next second and sets a strictly increasing mtime, so the
        change is never missed (before the instance runs nothing has read
        it: no wait)."""
        if self.users_file:
            names = list(self.users)
            path = self.users_path
            tmp = os.path.join(self.workdir, ".tmp-users")
        else:
            names = [name]
            path = os.path.join(self.users_dir, name)
            tmp = os.path.join(self.users_dir, ".tmp-" + name)
        text = "".join(self._passwd_line(n) for n in names)
        if os.path.exists(path) and self.master_pid is not None:
            now = time.time()
            time.sleep(1.05 - (now - int(now)))
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
        self._users_mtime = max(self._users_mtime + 1, int(time.time()))
        os.utime(path, (self._users_mtime, self._users_mtime))

    def _passwd_line(self, name):
        pw = self.mail_pw or ensure_mail_user()
        password, settings = self.users[name]
        extra = " ".join("userdb_%s=%s" % (k, v)
                         for k, v in settings.items())
        return "%s:{PLAIN}%s:%d:%d::%s::%s\n" % (
            name, password, pw.pw_uid, pw.pw_gid, self.home(name), extra)

    def home(self, name):
        return os.path.join(self.mail_root, name)

    def add_user(self, name, password="secret", **settings):
        """Add (or replace) a user. settings become userdb extra fields:
        add_user("a@example.com", readreceipt_mode="internal") gives
        userdb_readreceipt_mode=internal, which overrides the setting of
        that name (plugin {} on 2.3, the top-level one on 2.4). Lists must
        use commas. Fields whose names differ between the versions come
        from helpers (attribute_dict_settings, sieve_before_settings)."""
        for key, value in settings.items():
            value = str(value)
            if re.search(r"\s", value):
                raise ValueError("passwd-file extra fields cannot contain "
                                 "whitespace: %s=%r" % (key, value))
        if ":" in name or re.search(r"\s", name):
            raise ValueError("bad user name %r" % name)
        self.users[name] = (password, {k: str(v)
                                       for k, v in settings.items()})
        home = self.home(name)
        if not os.path.isdir(home):
            os.makedirs(home)
            os.chown(home, self.mail_pw.pw_uid, self.mail_pw.pw_gid)
            os.chmod(home, 0o700)
        self._write_user(name)
        return name

    def write_user_file(self, user, relpath, content):
        """Create a file in the user's home, owned by the mail user."""
        path = os.path.join(self.home(user), relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(content)
        os.chown(path, self.mail_pw.pw_uid, self.mail_pw.pw_gid)
        return path

    # ---- clients

    def note_message(self, user, raw):
        """Remember that raw (its Message-ID) belongs to user."""
        message_id = message_id_of(raw)
        if message_id:
            self.message_ids[user].add(message_id)

    def deliver(self, user, raw, mail_from=None, timeout=10):
        """Deliver raw to user over LMTP. A leading Return-Path header is
        removed and used as MAIL FROM (Dovecot writes its own Return-Path
        from MAIL FROM); otherwise mail_from defaults to the From address."""
        rp, raw = split_return_path(raw)
        self.note_message(user, raw)
        if mail_from is None:
            mail_from = rp
        if mail_from is None:
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            mail_from = msg["From"].addresses[0].addr_spec
        with smtplib.LMTP("127.0.0.1", self.lmtp_port,
                          timeout=scaled(timeout)) as lmtp:
            refused = lmtp.sendmail(mail_from, [user], raw)
        if refused:
            raise RuntimeError("LMTP refused %r" % refused)

    def submit(self, user, raw, mail_from, rcpt_tos, password=None,
               timeout=30):
        """Send raw through the submission service as user (AUTH PLAIN).
        Returns the reply to DATA as (code, text); a refused recipient
        raises smtplib.SMTPRecipientsRefused."""
        with smtplib.SMTP("127.0.0.1", self.submission_port,
                          timeout=scaled(timeout)) as smtp:
            smtp.ehlo("client.example.com")
            smtp.login(user, password or self.users[user][0])
            code, text = smtp.mail(mail_from)
            if code != 250:
                return code, text.decode("utf-8", "replace")
            for rcpt in rcpt_tos:
                code, text = smtp.rcpt(rcpt)
                if code not in (250, 251):
                    raise smtplib.SMTPRecipientsRefused(
                        {rcpt: (code, text)})
            code, text = smtp.data(raw)
            return code, text.decode("utf-8", "replace")

    def imap(self, user, password=None, timeout=10):
        conn = imaplib.IMAP4("127.0.0.1", self.imap_port,
                             timeout=scaled(timeout))
        conn.login(user, password or self.users[user][0])
        return conn

    def pop3(self, user, password=None, timeout=10):
        conn = poplib.POP3("127.0.0.1", self.pop3_port,
                           timeout=scaled(timeout))
        conn.user(user)
        conn.pass_(password or self.users[user][0])
        return conn

    # ---- doveadm

    def doveadm(self, *args, fmt=None, timeout=30):
        """Run doveadm -c <this instance's config> [-f fmt] args... as root
        (under valgrind when the instance uses it). Returns a
        DoveadmResult; a doveadm that crashed fails the test."""
        cmd = [DOVEADM_BIN, "-c", self.config_path]
        if fmt is not None:
            cmd += ["-f", fmt]
        cmd += [str(a) for a in args]
        if self.valgrind:
            # the valgrind command line of a service, without its binary
            cmd = self._service_executable("doveadm").split()[:-1] + cmd
        res = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                             capture_output=True, timeout=scaled(timeout))
        result = DoveadmResult(cmd, res)
        if res.returncode < 0 or "Panic:" in result.stderr or \
                (self.valgrind and res.returncode == 99):
            raise AssertionError("doveadm crashed: %r" % result)
        return result

    # ---- log

    def log_text(self, offset=0):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except FileNotFoundError:
            return 0

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])

    def log_lines(self, offset=0):
        """Parsed log lines that start at or after byte offset. Complete
        lines only; parsed once and cached."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_parsed_to)
                data = f.read()
        except FileNotFoundError:
            data = b""
        end = data.rfind(b"\n") + 1
        pos = self._log_parsed_to
        for raw in data[:end].splitlines(keepends=True):
            m = LOG_LINE_RE.match(raw.decode("utf-8", "replace").rstrip("\n"))
            if m is not None:
                self._log_cache.append(LogLine(m, pos))
            pos += len(raw)
        self._log_parsed_to = pos
        return [line for line in self._log_cache if line.offset >= offset]

    def decision_lines(self, user=None, offset=0, prefix=DECISION_PREFIX):
        """The plugin's decision log lines as dicts (keys in the order of
        the line), plus _service, _user, _level, _line. prefix: which
        lines (SUBMISSION_PREFIX: the submission module's)."""
        result = []
        for line in self.log_lines(offset):
            fields = parse_decision_text(line.text, prefix)
            if fields is None:
                continue
            if user is not None and line.user != user:
                continue
            fields.update(_service=line.service, _user=line.user,
                          _level=line.level, _line=str(line))
            result.append(fields)
        return result

    def submission_lines(self, user=None, offset=0):
        """The submission module's log lines, as decision_lines()."""
        return self.decision_lines(user, offset, SUBMISSION_PREFIX)

    def submission_events(self, user=None, offset=0):
        """readreceipt_submission events as flat dicts of their fields,
        plus _categories."""
        result = []
        for event in self.exported_events(SUBMISSION_EVENT, offset):
            fields = {k: str(v) for k, v in event.get("fields", {}).items()}
            if user is not None and fields.get("user") != user:
                continue
            fields["_categories"] = event.get("categories", [])
            result.append(fields)
        return result

    def exported_events(self, name=DECISION_EVENT, offset=0):
        """Events written by the JSON log exporter (by the stats process)."""
        result = []
        for line in self.log_lines(offset):
            if line.service != "stats" or not line.text.startswith("{"):
                continue
            try:
                event = json.loads(line.text)
            except ValueError:
                continue
            if name is None or event.get("event") == name:
                result.append(event)
        return result

    def decision_events(self, user=None, message_id=None, offset=0):
        """readreceipt_decision events as flat dicts of their fields (all
        values as strings), plus _categories and _event. user: events whose
        "user" field (inherited from the mail user's event) is user, or
        whose message_id is one that was delivered to or appended by user
        through this harness."""
        result = []
        for event in self.exported_events(DECISION_EVENT, offset):
            fields = {k: str(v) for k, v in event.get("fields", {}).items()}
            if user is not None and fields.get("user") != user and \
                    fields.get("message_id") not in self.message_ids[user]:
                continue
            if message_id is not None and \
                    fields.get("message_id") != message_id:
                continue
            fields["_categories"] = event.get("categories", [])
            fields["_event"] = event
            result.append(fields)
        return result

    def wait_decisions(self, user, n=1, timeout=5, offset=0):
        """Wait until user has at least n decision log lines and n
        exported decision events; return (lines, events)."""
        def enough():
            return (len(self.decision_lines(user, offset)) >= n and
                    len(self.decision_events(user, offset=offset)) >= n)
        try:
            wait_until(enough, scaled(timeout),
                       what="%d readreceipt decision(s) for %s" % (n, user))
        except TimeoutError as e:
            raise AssertionError(
                "%s\nlines: %r\nevents: %r\nlog tail:\n%s" % (
                    e, self.decision_lines(user, offset),
                    self.decision_events(user, offset=offset),
                    self.log_tail())) from None
        return (self.decision_lines(user, offset),
                self.decision_events(user, offset=offset))

    def problems(self, offset=0, levels=("Panic", "Fatal")):
        """Log lines of the given levels, plus crash reports."""
        result = []
        for line in self.log_lines(offset):
            died = CHILD_DIED_RE.search(line.text)
            if died and int(died.group("pid")) in self.killed_pids:
                continue
            if line.level in levels or died:
                result.append(line)
        return result

    # ---- valgrind

    def valgrind_reports(self):
        """{path: text} of every valgrind log that reports an error (lines
        that are only valgrind's own notices are ignored)."""
        reports = {}
        for path in sorted(glob.glob(os.path.join(self.valgrind_dir,
                                                  "vg.*.log"))):
            with open(path, errors="replace") as f:
                text = f.read()
            relevant = [line for line in text.splitlines()
                        if line.strip() and
                        not VALGRIND_NOTICE_RE.search(line)]
            if relevant:
                reports[path] = text
        return reports


# ---------------------------------------------------------------- IMAP help

FLAGS_RE = re.compile(rb"FLAGS \(([^)]*)\)")


def fetch_flags(conn, seq="1", uid=False):
    """Flags of one message in the selected mailbox, as a set of str."""
    if uid:
        typ, data = conn.uid("FETCH", seq, "(FLAGS)")
    else:
        typ, data = conn.fetch(seq, "(FLAGS)")
    assert typ == "OK", data
    for item in data:
        if isinstance(item, tuple):
            item = item[0]
        if item is None:
            continue
        m = FLAGS_RE.search(item)
        if m:
            return set(m.group(1).decode().split())
    raise AssertionError("no FLAGS in %r" % data)


def fetch_body(conn, seq="1", peek=False):
    item = "BODY.PEEK[]" if peek else "BODY[]"
    typ, data = conn.fetch(seq, "(%s)" % item)
    assert typ == "OK", data
    for part in data:
        if isinstance(part, tuple):
            return part[1]
    raise AssertionError("no body in %r" % data)


def imap_check(result):
    typ, data = result
    assert typ == "OK", (typ, data)
    return data


# the pending queue's METADATA entries (SPEC §6)
PENDING_PREFIX = "/private/vendor/vendor.readreceipt/pending/"
imaplib.Commands.setdefault("GETMETADATA", ("AUTH", "SELECTED"))
imaplib.Commands.setdefault("SETMETADATA", ("AUTH", "SELECTED"))


def getmetadata(conn, entry, mailbox="INBOX"):
    """The value of one entry (None for NIL), as a fresh GETMETADATA
    reports it."""
    typ, data = conn._simple_command("GETMETADATA", '"%s"' % mailbox, entry)
    assert typ == "OK", data
    typ, data = conn._untagged_response(typ, data, "METADATA")
    for item in data:
        if isinstance(item, tuple):
            return item[1].decode()
        if item is None:
            continue
        m = re.search(rb'\(\S+ (NIL|"((?:[^"\\]|\\.)*)")\)', item)
        if m:
            return None if m.group(1) == b"NIL" else \
                m.group(2).decode().replace('\\"', '"')
    raise AssertionError("no METADATA in %r" % (data,))


def setmetadata(conn, entry, value, mailbox="INBOX"):
    """SETMETADATA; returns (typ, data) as the server answered."""
    arg = "NIL" if value is None else '"%s"' % value
    return conn._simple_command("SETMETADATA", '"%s"' % mailbox,
                                "(%s %s)" % (entry, arg))


# ---------------------------------------------------------------- one user

class MailUser:
    """A user of a Dovecot instance with its own readreceipt settings, and
    the receipts and decisions that concern it."""

    def __init__(self, dovecot, sink, name, password="secret", **settings):
        self.dovecot = dovecot
        self.sink = sink
        self.name = name
        self.email = name
        self.password = password
        self.settings = settings
        dovecot.add_user(name, password, **settings)

    def __repr__(self):
        return "<MailUser %s %r>" % (self.name, self.settings)

    def update_settings(self, **changes):
        """Change some of the user's userdb fields (None removes one);
        the passwd-file is rewritten so that Dovecot sees the change."""
        for key, value in changes.items():
            if value is None:
                self.settings.pop(key, None)
            else:
                self.settings[key] = str(value)
        self.dovecot.add_user(self.name, self.password, **self.settings)

    # ---- mail

    def message(self, frm="boss@example.com", to=None, subject="Quarterly "
                "report", **kwargs):
        """A sample message to this user (see make_message)."""
        return make_message(frm, to if to is not None else self.email,
                            subject, **kwargs)

    def deliver(self, raw=None, mail_from=None, **kwargs):
        """Deliver raw (default: message(**kwargs)) over LMTP; returns its
        Message-ID."""
        if raw is None:
            raw = self.message(**kwargs)
        self.dovecot.deliver(self.name, raw, mail_from=mail_from)
        return message_id_of(raw)

    def append(self, conn, raw, mailbox="INBOX", flags=""):
        """APPEND raw on conn; returns its Message-ID."""
        self.dovecot.note_message(self.name, raw)
        imap_check(conn.append(mailbox, flags or None, None, raw))
        return message_id_of(raw)

    def imap(self, mailbox="INBOX", **kwargs):
        """A logged-in IMAP connection with mailbox selected (None: no
        SELECT)."""
        conn = self.dovecot.imap(self.name, self.password, **kwargs)
        if mailbox is not None:
            imap_check(conn.select(mailbox))
        return conn

    def pop3(self, **kwargs):
        return self.dovecot.pop3(self.name, self.password, **kwargs)

    def submit(self, raw, rcpt_tos, mail_from=None):
        """Send raw through the submission service as this user; returns
        the reply to DATA as (code, text). mail_from: default this user's
        address; "" for the null sender that receipts use."""
        return self.dovecot.submit(
            self.name, raw, self.email if mail_from is None else mail_from,
            rcpt_tos, self.password)

    def flags(self, seq="1", mailbox="INBOX"):
        """Flags as a fresh read-only session sees them."""
        conn = self.imap(mailbox=None)
        try:
            imap_check(conn.select(mailbox, readonly=True))
            return fetch_flags(conn, seq)
        finally:
            conn.logout()

    def all_flags(self, mailbox="INBOX"):
        """{seq: flags} of every message in mailbox (read-only)."""
        conn = self.imap(mailbox=None)
        try:
            count = int(imap_check(conn.select(mailbox, readonly=True))[0])
            return {seq: fetch_flags(conn, str(seq))
                    for seq in range(1, count + 1)}
        finally:
            conn.logout()

    def doveadm(self, command, *args, fmt="tab"):
        """doveadm [-f fmt] readreceipt <command> -u <this user> args..."""
        return self.dovecot.doveadm("readreceipt", command, "-u", self.name,
                                    *args, fmt=fmt)

    # ---- what the user's receipts and decisions look like

    def receipts(self, sink=None):
        """Messages at the sink that concern this user: they mention its
        address or one of its messages' Message-IDs."""
        sink = sink or self.sink
        needles = [self.email.encode()] + \
            [mid.encode() for mid in self.dovecot.message_ids[self.name]]
        return [m for m in sink.messages()
                if any(n in m.raw for n in needles)]

    def decision_lines(self):
        return self.dovecot.decision_lines(self.name)

    def receipts_for(self, message_id, sink=None):
        """Receipts at the sink that answer the message message_id (their
        In-Reply-To)."""
        return [r for r in self.receipts(sink)
                if (r.msg["In-Reply-To"] or "").strip() == message_id]

    def wait_receipts(self, n, timeout=5, message_id=None, sink=None):
        """Wait until at least n receipts (for message_id, if given) are
        at the sink; return them all. Receipts leave after the command
        that caused them was answered (SPEC §12): never expect one
        synchronously."""
        def get():
            if message_id is None:
                return self.receipts(sink)
            return self.receipts_for(message_id, sink)
        try:
            wait_until(lambda: len(get()) >= n, scaled(timeout),
                       what="%d receipt(s) for %s" % (n, message_id
                                                      or self.name))
        except TimeoutError as e:
            raise AssertionError("%s\nreceipts: %r\nlog tail:\n%s" % (
                e, get(), self.dovecot.log_tail(25))) from None
        return get()

    def submission_lines(self):
        return self.dovecot.submission_lines(self.name)

    def submission_events(self):
        return self.dovecot.submission_events(self.name)

    def decision_events(self):
        return self.dovecot.decision_events(self.name)

    def wait_decision(self, message_id, timeout=5, extra=None):
        """Wait until both the decision log line and the exported
        readreceipt_decision event for message_id are in the log (and
        extra(), if given, is true); return (lines, events): everything
        logged for this user so far. A session's earlier decisions are
        logged before this one, so the lists are complete up to it."""
        def seen():
            return (any(d.get("message_id") == message_id
                        for d in self.decision_lines()) and
                    any(e.get("message_id") == message_id
                        for e in self.decision_events()) and
                    (extra is None or extra()))
        try:
            wait_until(seen, scaled(timeout),
                       what="decision line and event for %s" % message_id)
        except TimeoutError as e:
            raise AssertionError(
                "%s (user %s)\nlines: %r\nevents: %r\nlog tail:\n%s" % (
                    e, self.name, self.decision_lines(),
                    [strip_private(x) for x in self.decision_events()],
                    self.dovecot.log_tail(25))) from None
        return self.decision_lines(), self.decision_events()

    def marker(self, conn=None):
        """Deliver one more requesting message and open it in conn (a new
        session if None), then wait for its decision. Decisions and
        receipts that the session's earlier commands caused are then
        complete. Returns the marker's Message-ID."""
        mid = self.deliver(subject="marker")
        own = conn is None
        if own:
            conn = self.imap(mailbox=None)
        try:
            imap_check(conn.select("INBOX"))
            uids = imap_check(conn.uid("SEARCH", None, "HEADER",
                                       "Message-ID", '"%s"' % mid))
            uids = uids[0].split()
            assert len(uids) == 1, uids
            typ, data = conn.uid("FETCH", uids[0], "(BODY[])")
            assert typ == "OK", data
            # the receipt leaves from the session's ioloop after the
            # reply: keep the session until it is decided
            self.wait_decision(mid)
        finally:
            if own:
                conn.logout()
        return mid


def strip_private(d):
    """A decision dict without the harness' own _keys."""
    return {k: v for k, v in d.items() if not k.startswith("_")}


def disposition_fields(mdn):
    """The fields of the message/disposition-notification part of a
    parsed MDN, as {lowercase name: value}."""
    for part in mdn.walk():
        if part.get_content_type() != "message/disposition-notification":
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            fields = {}
            for block in payload:
                for k, v in block.items():
                    fields[k.lower()] = str(v)
            return fields
        text = payload if isinstance(payload, str) else \
            part.get_payload(decode=True).decode("utf-8", "replace")
        headers = email.message_from_string(text.lstrip("\r\n"))
        return {k.lower(): str(v) for k, v in headers.items()}
    raise AssertionError("no message/disposition-notification part")


def normalize_ws(value):
    return re.sub(r"\s+", " ", str(value)).strip()
