"""Every fenced code block of README.md, run.

Each block is preceded by a marker that names its kind,
`<!-- example: KIND [ARGS] -->`; a block without a known marker fails
test_every_block_has_a_known_marker. Each block is then one test
(test_example[<line>-<kind>]) that hands it to the checker of its kind,
which runs it for real where it can:

- dovecot-2.3-conf, dovecot-2.4-conf, dovecot-conf (both versions):
  appended to the configuration of a private instance (the harness' own:
  ports, paths and users are the only thing it adds), doveconf must accept
  it and show each of its plain `name = value` settings. A block for the
  other Dovecot version is skipped here and checked on the other CI leg
  (Debian 13, Dovecot 2.4). The blocks that enable the module, the
  attribute dict, the Sieve extension and the metrics snippet of the
  running version are, in addition, the configuration of the module's
  instance (readreceipt_submission_host and the metrics port adapted to
  the test's sink and a free port), whose receipts, prompts, logs and
  counters the other checkers use.
- imap OK|NO: each line sent as printed after login, `<uid>` replaced by
  the UID of a fresh prompt; the tagged answer must be the one the marker
  names, METADATA values must be the documented JSON, and an answered
  prompt must be gone (OK) or still there (NO).
- metadata-entry, json-entry: the names and values that the instance's
  GETMETADATA really returns have this shape and these keys.
- shell-admin: doveadm/doveconf commands run against the instance (`-c`
  its configuration; `sudo` dropped: the tests run as root).
- doveadm-policy-output: the real table has the same rows in the same
  order (values may differ); the error row's text is the real one.
- log-line: the event is produced for real; the real line has the same
  service, level and text, `<...>`, `...` and the values of key=value
  fields being placeholders.
- smtp-reply: the submission service's real answer to such a message.
- sieve: compiled by sievec with the instance's configuration.
- passwd-file: the lines are used as a passwd-file userdb (the password
  placeholder, uid, gid and home replaced with real ones) and doveadm
  readreceipt policy shows their fields with source userdb.
- sql-userdb, ldap-userdb: the CI has no SQL or LDAP server, so only what
  can be known without one is checked: every readreceipt field they map to
  is a setting that doveadm readreceipt policy knows.
- metrics-2.3-conf, metrics-2.4-conf: the block is the file of
  examples/metrics/ that test_metrics.py runs; the one of the running
  version is also part of the instance. openmetrics: the instance's
  /metrics has the sample's series (counts may differ).
- shell-script, build, package-build, systemctl, systemd-units: commands
  that install packages, build the tree or the package, or enable a
  systemd unit cannot run inside this test (scripts/test.sh and
  scripts/test-package.sh run them, and a test run has no systemd); the
  checkers compare them with the scripts and files that do.
"""

import json
import os
import re
import shlex
import socket
import subprocess
import tempfile
import urllib.request

import pytest

import rrharness
from conftest import running_dovecot
from rrharness import (MAIL_USER, PENDING_PREFIX, MailUser, fetch_body,
                       getmetadata, make_message, scaled, wait_until)
from test_metrics import client_receipt, open_message

README = os.path.join(rrharness.SOURCE_ROOT, "README.md")
MARKER_RE = re.compile(r"^\s*<!-- example: ([\w.-]+)((?: [\w.-]+)*) -->\s*$")
FENCE_RE = re.compile(r"^(\s*)```(\w*)\s*$")
BOSS = "boss@example.com"
SIEVEC = "/usr/bin/sievec"
VERSION_KINDS = {"dovecot-2.3-conf": False, "dovecot-2.4-conf": True,
                 "metrics-2.3-conf": False, "metrics-2.4-conf": True}


class Block:
    def __init__(self, line, kind, args, text, lang):
        self.line = line        # the line of the opening fence
        self.kind = kind
        self.args = args
        self.text = text
        self.lang = lang

    def lines(self):
        return [l for l in self.text.splitlines() if l.strip()]

    def __repr__(self):
        return "README.md:%d (%s)" % (self.line, self.kind)


def parse_readme(path=README):
    """[Block], and the fences that have no marker as [(line, first
    line of the block)]."""
    with open(path) as f:
        lines = f.read().split("\n")
    blocks, unmarked = [], []
    i = 0
    while i < len(lines):
        m = FENCE_RE.match(lines[i])
        if not m:
            i += 1
            continue
        indent = m.group(1)
        start = i
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent):] if
                        lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        text = "\n".join(body) + "\n"
        prev = start - 1
        while prev >= 0 and not lines[prev].strip():
            prev -= 1
        marker = MARKER_RE.match(lines[prev]) if prev >= 0 else None
        if marker is None:
            unmarked.append((start + 1, body[0] if body else ""))
            continue
        blocks.append(Block(start + 1, marker.group(1),
                            marker.group(2).split(), text, m.group(2)))
    return blocks, unmarked


BLOCKS, UNMARKED = parse_readme()


def blocks_of(kind):
    return [b for b in BLOCKS if b.kind == kind]


# ---------------------------------------------------------------- the file

def github_anchor(heading):
    """The anchor GitHub gives a heading: lower case, punctuation but - and
    _ removed, spaces to -."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def test_every_block_has_a_known_marker():
    assert UNMARKED == [], "fenced blocks without an example marker: %r" \
        % UNMARKED
    unknown = sorted({b.kind for b in BLOCKS} - set(CHECKERS))
    assert unknown == [], "unknown example kinds: %r" % unknown


def test_every_internal_link_resolves():
    with open(README) as f:
        text = f.read()
    outside = re.sub(r"(?ms)^\s*```.*?^\s*```", "", text)
    anchors = {github_anchor(h) for h in
               re.findall(r"(?m)^#{1,6} (.*)$", outside)}
    links = re.findall(r"\]\(#([^)]*)\)", outside)
    assert links, "no internal links found"
    assert sorted(set(links) - anchors) == [], sorted(anchors)
    # relative links to files of the tree
    for target in re.findall(r"\]\(([^)#:]+)\)", outside):
        assert os.path.exists(os.path.join(rrharness.SOURCE_ROOT, target)), \
            target


def test_two_parts_in_order():
    """The administrator's part, then the client author's, then the
    project's own sections."""
    with open(README) as f:
        tops = re.findall(r"(?m)^## (.*)$", f.read())
    assert tops[0].startswith("Quick start"), tops
    assert tops[1:] == ["For administrators", "For client authors",
                        "Performance", "Tests"], tops


# ---------------------------------------------------------------- instance

def conf_blocks(kinds):
    return [b for b in BLOCKS if b.kind in kinds]


def running_conf_kinds():
    if rrharness.DOVECOT_24:
        return ("dovecot-2.4-conf", "dovecot-conf")
    return ("dovecot-2.3-conf", "dovecot-conf")


def instance_blocks():
    """The README's configuration blocks that make up the instance: the
    module enabled with a policy, the attribute dict, the IMAP module and
    the Sieve extension, for the running version."""
    kinds = running_conf_kinds()
    picked = []
    for needle in ("readreceipt_submission_host = 127.0.0.1:25",
                   "imap_metadata = yes", "imap_readreceipt",
                   "sieve_readreceipt"):
        found = [b for b in conf_blocks(kinds) if needle in b.text]
        assert len(found) == 1, (needle, found)
        picked.append(found[0])
    return picked


def metrics_block():
    kind = "metrics-2.4-conf" if rrharness.DOVECOT_24 else "metrics-2.3-conf"
    found = blocks_of(kind)
    assert len(found) == 1, kind
    return found[0]


class Readme:
    """The module's instance and what the checkers share."""

    def __init__(self, dc, sink, metrics_port, doveadm_module):
        self.dc = dc
        self.sink = sink
        self.metrics_port = metrics_port
        self.doveadm_module = doveadm_module
        # alice has the policy of the README's configuration, but is
        # asked first (her userdb): what she opens waits as a prompt
        self.alice = MailUser(dc, sink, "alice@example.com",
                              readreceipt_prompt="yes")
        # UID 1 has an entry (the IMAP examples rely on it)
        self.new_prompt(self.alice)

    def doveadm(self, *args, **kwargs):
        if self.doveadm_module.unusable is not None:
            pytest.skip(self.doveadm_module.unusable)
        return self.dc.doveadm(*args, **kwargs)

    def new_prompt(self, user):
        """Deliver a message that asks for a receipt and open it in a
        plain IMAP session: it waits for the user. Returns its UID."""
        mid = user.deliver()
        conn = user.imap()
        try:
            typ, data = conn.search(None, "HEADER", "Message-ID", mid)
            assert typ == "OK", data
            seq = data[0].split()[-1].decode()
            typ, data = conn.fetch(seq, "(UID)")
            uid = int(re.search(rb"UID (\d+)", data[0]).group(1))
            fetch_body(conn, seq)
            user.wait_decision(mid)
        finally:
            conn.logout()
        d = [x for x in user.decision_lines() if x["message_id"] == mid][-1]
        assert (d["decision"], d["uid"]) == ("queued", str(uid)), d
        return uid


@pytest.fixture(scope="module")
def readme(workdir, sink, doveadm_module):
    metrics_port = rrharness.free_port()
    parts = []
    for block in instance_blocks():
        text = block.text
        # adapted: receipts go to the test's SMTP sink
        text = text.replace("readreceipt_submission_host = 127.0.0.1:25",
                            "readreceipt_submission_host = %s"
                            % sink.address)
        parts.append(text)
    # adapted: a free port for the metrics listener
    metrics = metrics_block().text
    assert metrics.count("port = 9900") == 1
    parts.append(metrics.replace("port = 9900", "port = %d" % metrics_port))
    with running_dovecot(workdir, "dovecot-readme", sink,
                         extra_config="\n".join(parts)) as dc:
        wait_until(lambda: rrharness.port_open(metrics_port), scaled(10),
                   what="the OpenMetrics listener")
        yield Readme(dc, sink, metrics_port, doveadm_module)


def doveconf(config_path, *args):
    return subprocess.run(["doveconf", "-c", config_path] + list(args),
                          stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=scaled(30))


# ---------------------------------------------------------------- checkers

def setting_lines(text):
    """The plain `name = value` lines of a configuration block (comments,
    sections and values with $variables left out)."""
    result = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "$" in line:
            continue
        m = re.match(r"^([\w/]+) = (.*)$", line)
        if m:
            result.append(line)
    return result


def shown_settings(text):
    """The lines of doveconf -n, stripped, and for a setting in a section
    without a name (`ssl_client {`, Dovecot 2.4 groups settings so) also
    as the setting's full name: `ssl_client_ca_file = ...`."""
    shown, sections = set(), []
    for line in text.splitlines():
        line = line.strip()
        if line.endswith("{"):
            sections.append(line[:-1].split())
        elif line == "}":
            sections.pop()
        elif line:
            shown.add(line)
            if sections and len(sections[-1]) == 1:
                shown.add(sections[-1][0] + "_" + line)
    return shown


def check_conf(block, readme):
    want_24 = VERSION_KINDS.get(block.kind)
    if want_24 is not None and want_24 != rrharness.DOVECOT_24:
        pytest.skip("a Dovecot %s block; this is Dovecot %s (the other CI "
                    "leg checks it)" % ("2.4" if want_24 else "2.3",
                                        ".".join(map(str, rrharness.
                                                     DOVECOT_VERSION))))
    with open(readme.dc.config_path) as f:
        base = f.read()
    fd, path = tempfile.mkstemp(prefix="readme-conf-", suffix=".conf",
                                dir=readme.dc.workdir)
    with os.fdopen(fd, "w") as f:
        f.write(base + "\n# README.md:%d\n" % block.line + block.text)
    res = doveconf(path, "-n")
    assert res.returncode == 0, "doveconf refuses %r:\n%s" % (block,
                                                              res.stderr)
    shown = shown_settings(res.stdout)
    missing = [l for l in setting_lines(block.text) if l not in shown]
    assert missing == [], "doveconf -n does not show %r:\n%s" % (
        missing, res.stdout)
    os.unlink(path)
    # Dovecot 2.3 takes any name in plugin {}: the module must know it
    names = set(re.findall(r"(?m)^\s*(readreceipt_\w+) =", block.text))
    if names:
        assert names <= known_settings(readme), names
    if block in instance_blocks():
        check_settings_in_force(block, readme)


def check_settings_in_force(block, readme):
    """The block's readreceipt_* settings are the policy of a user without
    userdb fields of their own (the submission host as adapted)."""
    user = MailUser(readme.dc, readme.sink,
                    "conf%d@example.com" % block.line)
    res = readme.doveadm("readreceipt", "policy", "-u", user.name,
                         fmt="tab")
    assert res.rc == 0, res
    rows = {r["setting"]: r for r in res.rows}
    for name, value in re.findall(r"(?m)^\s*(readreceipt_\w+) = (.*)$",
                                  block.text):
        if name == "readreceipt_submission_host":
            value = readme.sink.address
        assert (rows[name]["value"], rows[name]["source"]) == \
            (value, "config"), rows[name]


def check_metrics_conf(block, readme):
    name = "dovecot-2.4.conf" if block.kind == "metrics-2.4-conf" \
        else "dovecot-2.3.conf"
    with open(os.path.join(rrharness.SOURCE_ROOT, "examples", "metrics",
                           name)) as f:
        assert block.text == f.read(), "the block is not examples/" \
            "metrics/%s, which test_metrics.py runs" % name
    check_conf(block, readme)


def open_as(user, **kwargs):
    """Deliver a message (user.message(**kwargs)) and open it."""
    mid = user.deliver(**kwargs)
    open_message(user, mid)
    return mid


def check_openmetrics(block, readme):
    dc, sink = readme.dc, readme.sink
    auto = MailUser(dc, sink, "metrics-auto@example.com")
    open_as(auto)
    off = MailUser(dc, sink, "metrics-off@example.com",
                   readreceipt_mode="disabled")
    open_as(off)
    try:
        off.submit(receipt(off, BOSS), [BOSS], mail_from="")
    except Exception:
        pass
    sample = re.compile(r"^(\w+)\{([^}]*)\} (\d+)$")

    def series():
        with urllib.request.urlopen(
                "http://127.0.0.1:%d/metrics" % readme.metrics_port,
                timeout=scaled(5)) as resp:
            text = resp.read().decode()
        return {(m.group(1), m.group(2)) for m in
                (sample.match(l) for l in text.splitlines()) if m}
    wanted = []
    for line in block.lines():
        m = sample.match(line)
        assert m, "not an OpenMetrics sample: %r" % line
        wanted.append((m.group(1), m.group(2)))
    seen = set()

    def all_there():
        seen.clear()
        seen.update(series())
        return set(wanted) <= seen
    try:
        wait_until(all_there, scaled(10), what="the sample's series")
    except TimeoutError:
        pass
    assert set(wanted) <= seen, sorted(seen)


def check_shell_script(block, readme):
    """./scripts/demo.sh and ./scripts/test.sh: test_demo.py runs the
    demo (scripts/demo.py, which demo.sh starts after installing and
    building); test.sh is what CI runs, so it cannot run inside it."""
    for line in block.lines():
        argv = shlex.split(line)
        path = os.path.join(rrharness.SOURCE_ROOT, argv[0])
        assert os.access(path, os.X_OK), path
        with open(path) as f:
            script = f.read()
        assert "rr_install_deps" in script and "rr_build" in script, path
        if argv[0] == "./scripts/demo.sh":
            assert re.search(r'(?m)^exec .*scripts/demo\.py"? "\$@"',
                             script), path


def deps_function(name):
    with open(os.path.join(rrharness.SOURCE_ROOT, "scripts",
                           "deps.sh")) as f:
        text = f.read()
    m = re.search(r"(?ms)^%s\(\) \{\n(.*?)^\}" % name, text)
    assert m, name
    return m.group(1)


def check_build(block, readme):
    """The build is what scripts/deps.sh's rr_build runs (scripts/test.sh
    builds with it); make install is run by make check into a staging
    directory."""
    body = deps_function("rr_build")
    commands = [l.split("#")[0].strip() for l in block.lines()]
    for command in commands:
        if command.startswith("sudo "):
            assert command == "sudo make install", command
            # make check runs tests/unit/test-install.sh, which runs it
            with open(os.path.join(rrharness.SOURCE_ROOT,
                                   "Makefile.am")) as f:
                assert "tests/unit/test-install.sh" in f.read()
            with open(os.path.join(rrharness.SOURCE_ROOT, "tests", "unit",
                                   "test-install.sh")) as f:
                assert re.search(r"(?m)^\$MAKE .* install DESTDIR=",
                                 f.read()), "test-install.sh: make install"
            continue
        assert re.search(r"(?m)^\s*%s\s*$" % re.escape(command), body), \
            "scripts/deps.sh rr_build does not run %r" % command


def check_package_build(block, readme):
    """The build dependencies are debian/control's; the commands are the
    ones scripts/test-package.sh runs."""
    with open(os.path.join(rrharness.SOURCE_ROOT, "scripts",
                           "test-package.sh")) as f:
        script = f.read()
    with open(os.path.join(rrharness.SOURCE_ROOT, "debian",
                           "control")) as f:
        control = f.read()
    deps = re.search(r"(?ms)^Build-Depends:\n(.*?)^\S", control).group(1)
    build_deps = {re.split(r"[\s(<]", d.strip())[0]
                  for d in deps.split(",") if d.strip()}
    lines = block.lines()
    assert len(lines) == 3, lines
    apt = shlex.split(lines[0])
    assert apt[:3] == ["sudo", "apt-get", "install"], apt
    # debhelper-compat comes with debhelper, groff-base is essential
    assert set(apt[3:]) >= (build_deps - {"debhelper-compat",
                                          "groff-base"}), (apt, build_deps)
    assert lines[1] in script, "test-package.sh runs %r" % lines[1]
    inst = shlex.split(lines[2])
    assert inst[:3] == ["sudo", "apt-get", "install"], inst
    version = rrharness.project_version()
    assert inst[3] == "../dovecot-readreceipt_%s_amd64.deb" % version, inst
    assert re.search(r"apt-get install -y -q \"\$deb\"", script)


def check_systemctl(block, readme):
    """A test run has no systemd of its own: the unit that this enables is
    checked to be the one the package ships."""
    argv = shlex.split(block.lines()[0])
    assert argv[:3] == ["systemctl", "enable", "--now"], argv
    assert os.path.exists(os.path.join(
        rrharness.SOURCE_ROOT, "debian",
        "dovecot-readreceipt." + argv[3])), argv[3]


def check_systemd_units(block, readme):
    """The units are the package's files, and systemd-analyze verifies
    them."""
    files = re.split(r"(?m)^# /etc/systemd/system/(\S+)\n", block.text)
    assert files[0] == "", files[0]
    tmp = tempfile.mkdtemp(dir=readme.dc.workdir)
    paths = []
    for name, text in zip(files[1::2], files[2::2]):
        with open(os.path.join(rrharness.SOURCE_ROOT, "debian",
                               "dovecot-readreceipt." + name)) as f:
            assert text.rstrip("\n") == f.read().rstrip("\n"), name
        paths.append(os.path.join(tmp, name))
        with open(paths[-1], "w") as f:
            f.write(text)
    assert sorted(os.path.basename(p) for p in paths) == [
        "readreceipt-flush.service", "readreceipt-flush.timer"]
    if os.path.exists("/usr/bin/systemd-analyze"):
        res = subprocess.run(["systemd-analyze", "verify"] + paths,
                             capture_output=True, text=True,
                             timeout=scaled(60))
        assert res.returncode == 0, res.stderr


def shell_argv(line, readme):
    """A command as printed, for this instance: sudo dropped (root),
    doveconf and doveadm given -c <the instance's config>."""
    line = re.sub(r"^sudo ", "", line)
    return re.sub(r"^(doveconf|doveadm)\b", r"\1 -c %s"
                  % shlex.quote(readme.dc.config_path), line)


def check_shell_admin(block, readme):
    if any("doveadm readreceipt" in l for l in block.lines()):
        if readme.doveadm_module.unusable is not None:
            pytest.skip(readme.doveadm_module.unusable)
    for line in block.lines():
        command = shell_argv(line, readme)
        res = subprocess.run(["/bin/sh", "-c", command],
                             stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, timeout=scaled(60))
        assert res.returncode == 0, (command, res.stdout, res.stderr)
        if "grep readreceipt" in line:
            lines = [l.strip() for l in res.stdout.splitlines()]
            assert "readreceipt_mode = internal" in lines, res.stdout
            assert "readreceipt_prompt = no" in lines, res.stdout
        elif "readreceipt list" in line:
            rows = res.stdout.splitlines()
            assert rows[0].split() == ["mailbox", "uid", "reason", "since",
                                       "to", "subject", "message_id"], \
                res.stdout
            assert rows[1].split()[:3] == ["INBOX", "1", "unprompted"], \
                res.stdout
        elif "reload" in line:
            wait_until(lambda: readme.dc.processes(), scaled(5),
                       what="Dovecot after the reload")


def check_policy_output(block, readme):
    lines = block.text.splitlines()
    command = lines[0]
    assert command.startswith("# doveadm readreceipt policy -u "), command
    user = command.split()[-1]
    sample = [l.split()[0] for l in lines[1:] if l.strip()]
    error = [l for l in lines if l.startswith("error ")]
    assert len(error) == 1
    error_text = error[0][len("error"):].strip()
    # the user of the sample: mode from userdb, an allow list with an
    # invalid second entry
    bad = re.search(r'entry 2 \("([^"]*)"\)', error_text).group(1)
    dc = readme.dc
    before = dc.users[user]
    try:
        dc.add_user(user, before[0], **dict(
            before[1], readreceipt_mode="disabled",
            readreceipt_allow="partner@example.org," + bad))
        res = readme.doveadm(*shlex.split(command[2:])[1:])
    finally:
        dc.add_user(user, before[0], **before[1])
    assert res.rc == 0, res
    real = res.stdout.splitlines()
    assert real[0].split() == sample[:1] + ["value", "source"], real
    names = [l.split()[0] for l in real[1:]]
    # "…" stands for rows left out; every other row is there, in order
    i = 0
    for name in sample[1:]:
        if name == "…":
            continue
        assert name in names[i:], (name, names)
        j = names.index(name, i)
        assert j == i or sample[sample.index(name) - 1] == "…", (
            "rows between %s and %s" % (names[i - 1], name), names)
        i = j + 1
    assert i == len(names), names
    real_error = [l for l in real if l.startswith("error ")][0]
    assert real_error.split()[1:] == error_text.split(), real_error


def check_passwd_file(block, readme):
    """The lines as a userdb: the password placeholder becomes a real
    scheme, uid, gid and home the test's; the fields take effect."""
    dc = readme.dc
    pw = dc.mail_pw
    users = []
    before = {}
    for line in block.lines():
        fields = line.split(":")
        name, extra = fields[0], fields[7]
        assert fields[1].startswith("{SHA512-CRYPT}"), fields[1]
        extras = dict(f.split("=", 1) for f in extra.split(" "))
        settings = {}
        for key, value in extras.items():
            assert key.startswith("userdb_readreceipt_"), key
            settings[key[len("userdb_"):]] = value
        users.append((name, settings))
        # the line itself, adapted, is the user's passwd-file (the
        # harness keeps one per user)
        fields[1] = "{PLAIN}secret"
        fields[2], fields[3] = str(pw.pw_uid), str(pw.pw_gid)
        fields[5] = dc.home(name)
        if name in dc.users:
            before[name] = dc.users[name]
        dc.add_user(name, "secret")
        with open(os.path.join(dc.users_dir, name), "w") as f:
            f.write(":".join(fields) + "\n")
    try:
        check_passwd_users(readme, users)
    finally:
        # alice of the other examples
        for name, (password, settings) in before.items():
            dc.add_user(name, password, **settings)


def check_passwd_users(readme, users):
    for name, settings in users:
        res = readme.doveadm("readreceipt", "policy", "-u", name, fmt="tab")
        assert res.rc == 0, res
        rows = {r["setting"]: r for r in res.rows}
        for key, value in settings.items():
            assert rows[key]["source"] == "userdb", rows[key]
            shown = rows[key]["value"].replace(" ", ",")
            if rows["readreceipt_mode"]["value"] == "disabled" and \
                    key != "readreceipt_mode":
                continue
            assert shown == value, (key, rows[key])


def known_settings(readme):
    res = readme.doveadm("readreceipt", "policy", "-u",
                         readme.alice.name, fmt="tab")
    assert res.rc == 0, res
    return {r["setting"] for r in res.rows
            if r["setting"].startswith("readreceipt_")}


def check_sql_userdb(block, readme):
    """No SQL server in CI: the columns it renames are real settings."""
    names = re.findall(r"\bAS (\w+)", block.text)
    assert names, block.text
    assert set(names) <= known_settings(readme), names


def check_ldap_userdb(block, readme):
    """No LDAP server in CI: the attributes it maps are real settings."""
    m = re.match(r"^user_attrs = (.*)$", block.text.strip())
    assert m, block.text
    names = [pair.split("=")[1].strip() for pair in m.group(1).split(",")]
    rr = [n for n in names if n.startswith("readreceipt")]
    assert rr, names
    assert set(rr) <= known_settings(readme), rr
    assert set(names) - set(rr) <= {"home", "uid", "gid"}, names


def check_sieve(block, readme):
    dc = readme.dc
    tmp = tempfile.mkdtemp(prefix="readme-sieve-", dir=dc.workdir)
    os.chown(tmp, dc.mail_pw.pw_uid, dc.mail_pw.pw_gid)
    path = os.path.join(tmp, "script.sieve")
    with open(path, "w") as f:
        f.write(block.text)
    os.chmod(path, 0o644)
    res = subprocess.run(
        ["runuser", "-u", MAIL_USER, "--", SIEVEC, "-c", dc.config_path,
         path], stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=scaled(30), cwd=tmp)
    assert res.returncode == 0, res.stdout + res.stderr
    assert os.path.exists(os.path.join(tmp, "script.svbin"))


# ---- the client author's examples

def check_metadata_entry(block, readme):
    entry = block.text.strip()
    assert entry == PENDING_PREFIX + "<uid>", entry
    conn = readme.alice.imap(mailbox=None)
    try:
        assert getmetadata(conn, entry.replace("<uid>", "1")) is not None
    finally:
        conn.logout()


def check_json_entry(block, readme):
    example = json.loads(block.text)
    conn = readme.alice.imap(mailbox=None)
    try:
        real = json.loads(getmetadata(conn, PENDING_PREFIX + "1"))
    finally:
        conn.logout()
    assert list(real) == list(example), (real, example)
    for key, value in example.items():
        assert type(real[key]) is type(value), (key, real[key])
    assert real["reason"] == example["reason"]
    assert real["to"] == example["to"] and \
        real["subject"] == example["subject"], real


class RawImap:
    """Sends lines exactly as given; reads until the tagged answer."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=scaled(10))
        self.buf = b""
        self.readline()

    def readline(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            assert data, "connection closed"
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        # a literal {n} ends the line: its bytes and the rest follow
        m = re.search(rb"\{(\d+)\}$", line)
        if m:
            n = int(m.group(1))
            while len(self.buf) < n:
                self.buf += self.sock.recv(65536)
            line += b"\r\n" + self.buf[:n]
            self.buf = self.buf[n:]
            line += self.readline()
        return line

    def command(self, line):
        tag = line.split()[0].encode()
        self.sock.sendall(line.encode() + b"\r\n")
        untagged = []
        while True:
            got = self.readline()
            if got.startswith(tag + b" "):
                return got, untagged
            untagged.append(got)

    def close(self):
        self.sock.close()


def metadata_values(untagged):
    """{entry: value or None} of the METADATA responses."""
    result = {}
    for line in untagged:
        if not line.startswith(b"* METADATA "):
            continue
        text = line.decode()
        for m in re.finditer(
                r'(/private/\S+) (NIL|"((?:[^"\\]|\\.)*)"|\{\d+\}\r\n)',
                text):
            if m.group(2) == "NIL":
                result[m.group(1)] = None
            elif m.group(3) is not None:
                result[m.group(1)] = re.sub(r'\\(.)', r'\1', m.group(3))
            else:
                n = int(re.search(r"\d+", m.group(2)).group(0))
                result[m.group(1)] = text[m.end():m.end() + n]
    return result


def check_imap(block, readme):
    expected = block.args[0] if block.args else None
    assert expected in ("OK", "NO"), "imap marker without OK or NO"
    user = readme.alice
    keys = list(json.loads(blocks_of("json-entry")[0].text))
    lines = block.lines()
    # a fresh prompt for every line that names <uid>, made before the
    # session starts so that it knows every UID
    uids = [readme.new_prompt(user) if "<uid>" in l else None
            for l in lines]
    client = RawImap(readme.dc.imap_port)
    try:
        tagged, _ = client.command('x LOGIN "%s" "%s"' % (user.name,
                                                          user.password))
        assert tagged.split()[1] == b"OK", tagged
        for line, uid in zip(lines, uids):
            sent = line.replace("<uid>", str(uid)) if uid else line
            offset = readme.dc.log_size()
            tagged, untagged = client.command(sent)
            status = tagged.split()[1].decode()
            if line.split()[1] == "SELECT":
                assert status == "OK", tagged
                continue
            assert status == expected, (sent, tagged, untagged)
            if "GETMETADATA" in line:
                values = metadata_values(untagged)
                assert values, untagged
                if uid is not None:
                    assert list(values) == [PENDING_PREFIX + str(uid)]
                for name, value in values.items():
                    assert re.match(re.escape(PENDING_PREFIX) + r"\d+$",
                                    name), name
                    assert list(json.loads(value)) == keys, value
                continue
            if uid is None:
                continue
            conn = user.imap(mailbox=None)
            try:
                left = getmetadata(conn, PENDING_PREFIX + str(uid))
            finally:
                conn.logout()
            if expected == "NO":
                assert left is not None, "%s removed the entry" % sent
                continue
            assert left is None, "%s left the entry" % sent

            def decisions():
                return [x for x in readme.dc.decision_lines(
                    user.name, offset) if x.get("uid") == str(uid)]
            if '"send"' in line:
                # the event follows the relay's answer, when the record
                # is marked done
                wait_until(lambda: any(x["decision"] == "sent"
                                       for x in decisions()), scaled(5),
                           what="the receipt of UID %d" % uid)
                d = decisions()
                assert [x["decision"] for x in d] == ["sent"], d
            else:
                d = decisions()
                assert all(x["decision"] != "sent" for x in d), d
    finally:
        client.close()


# ---- log lines and SMTP replies

# fields whose values are names of the project (a decision, a reason, a
# setting ...): the real line has the example's. The others (user, uid,
# message_id, recipient, ...) vary.
LITERAL_FIELDS = {"decision", "reason", "trigger", "mode", "mailbox",
                  "action", "kind", "setting", "old", "new", "source"}


def line_regex(example):
    """A regex for the text of a log line: `<…>` and `…` stand for
    anything, and so does the value of each key=value field that is not
    in LITERAL_FIELDS."""
    out = ""
    for token in re.split(r"(<…>|… |…| )", example):
        if token == "… ":
            # e.g. Dovecot 2.3's "msgid=<...>: " of LMTP, which 2.4 omits
            out += "(?:.*? )?"
        elif token in ("<…>", "…"):
            out += ".*?"
        elif token == " ":
            out += " "
        elif re.match(r"^[a-z_]+=", token) and \
                token.split("=", 1)[0] not in LITERAL_FIELDS:
            key = token.split("=", 1)[0]
            out += re.escape(key) + r'=(?:"(?:[^"\\]|\\.)*"|\S*)'
        else:
            out += re.escape(token)
    return re.compile("^" + out + "$")


SOURCE_EXAMPLE_RE = re.compile(
    r"^(?P<service>[\w-]+)\((?P<user>[^)]*)\)<…>: (?P<level>\w+): "
    r"(?P<text>.*)$")


def produce(example, readme):
    """Makes the event of the example happen; returns (Dovecot, log
    offset) to look in."""
    dc, sink = readme.dc, readme.sink
    if "Receipts that wait for the user need mail_attribute_dict" in example:
        return None
    offset = dc.log_size()
    if "Invalid settings" in example:
        m = re.search(r'(readreceipt_allow): entry (\d+) \("([^"]*)"\)',
                      example)
        n, last = int(m.group(2)), m.group(3)
        entries = ["p%d@example.org" % i for i in range(1, n)] + [last]
        user = MailUser(dc, sink, "invalid@example.com",
                        readreceipt_allow=",".join(entries))
        user.imap().logout()
    elif "policy changed:" in example:
        # the change the example tells of: receipts switched off
        old, new = "internal", "disabled"
        user = MailUser(dc, sink, "changed@example.com",
                        readreceipt_mode=old)
        first = user.deliver()
        later = user.deliver()
        open_message(user, first)
        offset = dc.log_size()
        user.update_settings(readreceipt_mode=new)
        # an IMAP session's decision sees the change first
        open_message(user, later, seq="2")
    elif "trigger=delivery" in example:
        user = MailUser(dc, sink, "delivered@example.com",
                        readreceipt_hide_forbidden="yes")
        user.deliver(extra_headers=[("List-Id",
                                     "<news.lists.example.org>")])
    elif "action=" in example:
        user = MailUser(dc, sink, "submitter@example.com")
        to = re.search(r"recipient=(\S+)", example).group(1)
        try:
            user.submit(receipt(user, to), [to], mail_from="")
        except Exception:
            pass
    elif "decision=" in example:
        user = MailUser(dc, sink, "opener@example.com")
        open_as(user)
    else:
        raise AssertionError("no way to produce %r" % example)
    return dc, offset


def check_log_line(block, readme):
    for example in block.lines():
        m = SOURCE_EXAMPLE_RE.match(example)
        assert m, "not a log line: %r" % example
        regex = line_regex(m.group("text"))
        if "need mail_attribute_dict" in example:
            # needs a user without an attribute dict: an instance of the
            # harness' own configuration, which has none
            with running_dovecot(readme.dc.workdir + "-nodict", "d",
                                 readme.sink) as dc:
                user = MailUser(dc, readme.sink, "nodict@example.com",
                                readreceipt_mode="internal")
                open_as(user)
                lines = [l for l in dc.log_lines()
                         if regex.match(l.text)]
                found_in(lines, m, example)
                # and a prompting client's GETMETADATA is refused
                client = RawImap(dc.imap_port)
                try:
                    client.command('x LOGIN "%s" "%s"'
                                   % (user.name, user.password))
                    tagged, _ = client.command(
                        'y GETMETADATA "INBOX" (%s1)' % PENDING_PREFIX)
                finally:
                    client.close()
                assert tagged.split()[1] == b"NO", tagged
            continue
        dc, offset = produce(example, readme)

        def matching():
            return [l for l in dc.log_lines(offset)
                    if l.service == m.group("service") and
                    l.level == m.group("level") and regex.match(l.text)]
        try:
            wait_until(matching, scaled(5), what="the log line")
        except TimeoutError:
            pass
        found_in(matching(), m, example,
                 [str(l) for l in dc.log_lines(offset)][-15:])


def found_in(lines, m, example, context=()):
    assert lines, "no real line like %r:\n%s" % (example,
                                                 "\n".join(context))
    line = lines[0]
    assert (line.service, line.level) == (m.group("service"),
                                          m.group("level")), str(line)
    # the user is in the same place
    assert line.user is not None and "@" in line.user, str(line)


def receipt(user, to, content_type=None, body=None):
    """A receipt as a client builds it (test_metrics.client_receipt), or
    with the given MIME structure."""
    if content_type is None:
        return client_receipt(user, to)
    return make_message(user.email, to, "Read: Quarterly report", dnt=None,
                        content_type=content_type, body=body)


def smtp_answer(user, raw, to):
    try:
        code, text = user.submit(raw, [to], mail_from="")
    except Exception as e:  # refused at RCPT
        (code, text), = e.recipients.values()
        text = text.decode()
    return "%d %s" % (code, text)


def check_smtp_reply(block, readme):
    dc, sink = readme.dc, readme.sink
    for n, example in enumerate(block.lines()):
        disabled = "are disabled for this account" in example
        to = BOSS
        m = re.search(r"Read receipts to (\S+) are not allowed", example)
        if m:
            to = m.group(1)
        settings = {"readreceipt_mode": "disabled"} if disabled else {}
        user = MailUser(dc, sink, "smtp%d-%d@example.com" % (block.line, n),
                        **settings)
        if "a multipart part has no boundary" in example:
            raw = receipt(user, to, content_type="multipart/mixed",
                          body="--rr-b1\nContent-Type: message/"
                          "disposition-notification\n\n"
                          "Final-Recipient: rfc822; %s\n--rr-b1--\n"
                          % user.email)
        elif "a multipart part holds no parts" in example:
            raw = receipt(user, to, content_type='multipart/mixed; '
                          'boundary="rr-b1"', body="no part here\n")
        else:
            assert "MIME structure" not in example, example
            raw = receipt(user, to)
        assert smtp_answer(user, raw, to) == example


CHECKERS = {
    "dovecot-2.3-conf": check_conf,
    "dovecot-2.4-conf": check_conf,
    "dovecot-conf": check_conf,
    "metrics-2.3-conf": check_metrics_conf,
    "metrics-2.4-conf": check_metrics_conf,
    "openmetrics": check_openmetrics,
    "shell-script": check_shell_script,
    "build": check_build,
    "package-build": check_package_build,
    "systemctl": check_systemctl,
    "systemd-units": check_systemd_units,
    "shell-admin": check_shell_admin,
    "doveadm-policy-output": check_policy_output,
    "passwd-file": check_passwd_file,
    "sql-userdb": check_sql_userdb,
    "ldap-userdb": check_ldap_userdb,
    "sieve": check_sieve,
    "metadata-entry": check_metadata_entry,
    "json-entry": check_json_entry,
    "imap": check_imap,
    "log-line": check_log_line,
    "smtp-reply": check_smtp_reply,
}


@pytest.mark.parametrize("block", BLOCKS,
                         ids=["%d-%s" % (b.line, b.kind) for b in BLOCKS])
def test_example(block, readme):
    checker = CHECKERS.get(block.kind)
    assert checker is not None, "unknown kind %r" % block.kind
    checker(block, readme)


def run_bench_command(command_re, timeout, min_bars):
    """Run the one README command that command_re finds, as printed (sudo
    dropped: the tests run as root); return the result and the rows of
    its Markdown table (at least min_bars "|"), by their first cell."""
    with open(README) as f:
        commands = command_re.findall(f.read())
    assert len(commands) == 1, commands
    res = subprocess.run(commands[0].split(), cwd=rrharness.SOURCE_ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True,
                         timeout=rrharness.scaled(timeout))
    assert res.returncode == 0, res.stdout
    rows = {line.split("|")[1].strip(): [c.strip() for c in
                                         line.split("|")[2:-1]]
            for line in res.stdout.splitlines()
            if line.startswith("| ") and line.count("|") >= min_bars}
    return res, rows


RECEIPT_CPU_RE = re.compile(
    r"`sudo (/usr/bin/python3 bench/receipt_cpu\.py[^`]*)`")


def test_receipt_cpu_command_as_printed():
    """The receipt_cpu.py command of the Performance section runs as
    printed (sudo dropped: the tests run as root) and reports the system
    calls a receipt adds and no header field cached because of the
    module."""
    res, rows = run_bench_command(RECEIPT_CPU_RE, 300, 4)
    assert "all" in rows, res.stdout
    assert float(rows["all"][2]) > 0, res.stdout
    cached = rows["header fields cached for every message"]
    for field in ("Disposition-Notification-To", "Return-Path",
                  "Content-Type"):
        assert field not in cached[0], res.stdout



INSTRUCTIONS_RE = re.compile(
    r"`sudo (/usr/bin/python3 bench/instructions\.py[^`]*)`")


@pytest.mark.skipif(not os.path.exists("/usr/bin/valgrind"),
                    reason="valgrind is not installed")
def test_instructions_command_as_printed():
    """The instructions.py command of the Performance section runs as
    printed (sudo dropped: the tests run as root) and reports, for both
    cases, the instructions of both instances for the same work, the
    module's deliveries doing more (each is judged and marked)."""
    res, rows = run_bench_command(INSTRUCTIONS_RE, 900, 7)
    assert set(rows) >= {"lmtp", "load"}, res.stdout
    for case in ("lmtp", "load"):
        stock, module = (int(rows[case][i].replace(",", ""))
                         for i in (1, 2))
        assert stock > 0 and module > 0, res.stdout
    assert float(rows["lmtp"][3]) > 1.0, res.stdout
