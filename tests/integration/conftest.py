"""Session fixtures: one private Dovecot and the SMTP sinks it talks to.

Every test makes its own users (new_user) with its own readreceipt_*
settings as userdb extra fields, so one Dovecot serves the whole session.
The work directory is kept when a test failed (or RR_KEEP=yes) and its
path printed; the Dovecot log of a failed test is attached to its report.
"""

import contextlib
import itertools
import os
import re
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rrharness  # noqa: E402

# The policy every test user starts from; tests override per user.
GLOBAL_PLUGIN_SETTINGS = {
    "readreceipt_mode": "disabled",
    # delivery-time marking is tested on its own (test_hide_forbidden_*)
    "readreceipt_hide_forbidden": "no",
}


def pytest_configure(config):
    if os.geteuid() != 0:
        raise pytest.UsageError(
            "the integration tests run a private Dovecot and need root")


@pytest.fixture(scope="session")
def workdir(request):
    path = tempfile.mkdtemp(prefix="readreceipt-it-",
                            dir=os.environ.get("RR_WORKDIR"))
    os.chmod(path, 0o755)
    yield path
    keep = rrharness.env_flag("RR_KEEP") or request.session.testsfailed
    if keep:
        sys.stderr.write("\nintegration work directory kept: %s\n" % path)
    else:
        shutil.rmtree(path, ignore_errors=True)


def _start_sink(workdir, mode):
    return rrharness.SmtpSink(os.path.join(workdir, "sink-" + mode),
                              mode=mode).start()


@pytest.fixture(scope="session")
def sink(workdir):
    """Accepts everything: where receipts arrive."""
    s = _start_sink(workdir, "accept")
    yield s
    s.stop()


@pytest.fixture(scope="session")
def reject_sink(workdir):
    """Refuses every recipient with 550 5.7.1."""
    s = _start_sink(workdir, "reject")
    yield s
    s.stop()


@pytest.fixture(scope="session")
def hang_sink(workdir):
    """Accepts connections and never greets."""
    s = _start_sink(workdir, "hang")
    yield s
    s.stop()


@pytest.fixture(scope="session")
def refused_port():
    """A loopback port where connections are refused."""
    return rrharness.refused_port()


@contextlib.contextmanager
def running_dovecot(workdir, name, sink, plugin_settings=None, **kwargs):
    """A private Dovecot in workdir/name that sends to sink, with
    GLOBAL_PLUGIN_SETTINGS updated by plugin_settings; kwargs go to
    rrharness.Dovecot. Stopped at the end; valgrind errors fail the test
    (or the session)."""
    settings = dict(GLOBAL_PLUGIN_SETTINGS)
    settings.update(plugin_settings or {})
    # submission_host=None: the plugin's own setting is left unset (the
    # instance then uses Dovecot's submission_host or sendmail_path,
    # given through global_settings); submission_relay=None: no
    # submission service
    kwargs.setdefault("submission_host", sink.address)
    # the submission service relays what clients send to the sink
    kwargs.setdefault("submission_relay", sink.address)
    dc = rrharness.Dovecot(
        workdir=os.path.join(workdir, name),
        plugin_settings=settings,
        # METADATA for the pending queue; users get an attribute dict
        # through userdb where a test needs one
        extra_config="protocol imap {\n  imap_metadata = yes\n}\n" +
        kwargs.pop("extra_config", ""),
        debug=kwargs.pop("debug", rrharness.env_flag("RR_DEBUG")),
        **kwargs)
    dc.start()
    try:
        yield dc
    finally:
        # waits until the master and every process it had are gone (also
        # when the test that used this instance failed)
        dc.stop()
    reports = dc.valgrind_reports()
    if reports:
        pytest.fail("valgrind reported errors:\n" + "\n".join(
            "==== %s\n%s" % (path, text) for path, text in reports.items()),
            pytrace=False)


@pytest.fixture(scope="session")
def dovecot(workdir, sink, request):
    with running_dovecot(workdir, "dovecot", sink) as dc:
        yield dc


@pytest.fixture(scope="session")
def doveadm_module(dovecot):
    """The doveadm module under test, loadable by doveadm for the session
    (see rrharness.DoveadmModule)."""
    module = rrharness.DoveadmModule(dovecot).install()
    yield module
    module.remove()


@pytest.fixture
def doveadm(doveadm_module, dovecot):
    """dovecot.doveadm(*args, fmt=None), for tests of the doveadm module."""
    if doveadm_module.unusable is not None:
        pytest.skip(doveadm_module.unusable)
    return dovecot.doveadm


_user_counter = itertools.count(1)


@pytest.fixture
def new_user(request, dovecot, sink):
    """new_user(prefix="alice", **settings) -> MailUser with a name unique
    to this test, e.g. alice-t12-mode-disabled@example.com."""
    slug = re.sub(r"[^a-z0-9]+", "-",
                  request.node.name.lower().replace("test_", "", 1))
    slug = slug.strip("-")[:32].strip("-")

    def make(prefix="alice", **settings):
        name = "%s-t%d-%s@example.com" % (prefix, next(_user_counter), slug)
        return rrharness.MailUser(dovecot, sink, name, **settings)
    return make


@pytest.fixture(autouse=True)
def no_crash(request, dovecot):
    """Fails a test during which any Dovecot process panicked, died or
    reported a valgrind error through its exit status."""
    offset = dovecot.log_size()
    request.node.rr_log_offset = offset
    yield
    problems = dovecot.problems(offset)
    assert not problems, "Dovecot problems during the test:\n" + \
        "\n".join(map(str, problems))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "setup" or not report.failed:
        return
    dc = item.funcargs.get("dovecot")
    offset = getattr(item, "rr_log_offset", None)
    if dc is not None and offset is not None:
        text = dc.log_text(offset)
        if len(text) > 20000:
            text = "...\n" + text[-20000:]
        report.sections.append(("dovecot log during the test", text))
