"""Fixtures for Strata's integration tests.

- `broker`: the broker under test (Strata, or Mosquitto with
  STRATA_TEST_BROKER=mosquitto) on a free loopback port, started with the
  config of the test's `broker_config` marker. On teardown its clients are
  closed, it is stopped, and the test fails if it crashed, exited on its own,
  or a sanitizer reported an error.
- `paho`: factory of connected-or-not paho clients bound to the broker.
- `raw` (module raw.py) builds and reads packets byte by byte.

Markers:
- strata_only: behaviour Mosquitto does not have ($SYS names, broker-assigned
  topic aliases, Strata's config and command line, ...) — skipped under Mosquitto.
- mosquitto_deviation(reason): the spec says X, Mosquitto 2.0.11 does Y;
  skipped under Mosquitto, run against Strata.
- broker_config(**sections): config for this test's broker, e.g.
  broker_config(limits={"receive_maximum": 5}, sys={"interval": 1}).
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import brokerproc  # noqa: E402
import pahoc  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "strata_only: needs Strata-specific behaviour; skipped under mosquitto")
    config.addinivalue_line("markers", "mosquitto_deviation(reason): Mosquitto 2.0.11 deviates from the spec here; skipped under mosquitto")
    config.addinivalue_line("markers", "broker_config(**sections): config sections for the test's broker")
    config.addinivalue_line("markers", "browser: drives a headless Chromium (set on every test that uses the browser fixture)")
    config.addinivalue_line("markers", "long_outage: a long outage under load across several processes; run on the "
                            "release build only (tools/test.sh), the shorter outage tests cover the same code under ASan")


def pytest_report_header(config):
    if brokerproc.KIND == "mosquitto":
        return "broker under test: mosquitto"
    return "broker under test: strata (%s)" % (brokerproc.strata_bin() or "NOT FOUND")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
    if brokerproc.KIND != "mosquitto":
        return
    for item in items:
        if item.get_closest_marker("strata_only"):
            item.add_marker(pytest.mark.skip(reason="Strata-only behaviour"))
        m = item.get_closest_marker("mosquitto_deviation")
        if m:
            reason = m.args[0] if m.args else "Mosquitto deviates from the spec"
            item.add_marker(pytest.mark.skip(reason="mosquitto deviation: " + reason))


def _merged_config(request):
    config = {}
    for m in reversed(list(request.node.iter_markers("broker_config"))):
        for section, values in m.kwargs.items():
            if isinstance(values, dict):
                config.setdefault(section, {}).update(values)
            else:
                config[section] = values
    return config


# Brokers told to stop but not yet reaped: stopping takes a moment (Strata
# drains its connections), so tests do not wait for it one by one. Problems
# found when they are reaped (a crash or sanitizer report during shutdown,
# no exit) are reported at the end and fail the run.
_STOPPING = []
_SHUTDOWN_PROBLEMS = []
_MAX_STOPPING = 8


def _reap(limit):
    while len(_STOPPING) > limit:
        nodeid, b = _STOPPING.pop(0)
        problems = b.finish_stop()
        if problems:
            _SHUTDOWN_PROBLEMS.append("%s: %s\n--- broker log tail ---\n%s" % (
                nodeid, "; ".join(problems), b.log_tail(40)))


def pytest_sessionfinish(session, exitstatus):
    _reap(0)
    if _SHUTDOWN_PROBLEMS and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if _SHUTDOWN_PROBLEMS:
        terminalreporter.section("broker problems during shutdown", red=True)
        for p in _SHUTDOWN_PROBLEMS:
            terminalreporter.line(p)


@pytest.fixture
def broker(request, tmp_path):
    b = brokerproc.Broker(tmp_path, _merged_config(request))
    b.start()
    yield b
    b.close_clients()
    problems = b.health_problems()  # crashed or reported errors during the test
    if problems:
        try:
            b.kill()
        except brokerproc.BrokerError as e:
            problems.append(str(e))
        pytest.fail("broker problems:\n  " + "\n  ".join(problems) + "\n--- broker log tail ---\n"
                    + b.log_tail(80), pytrace=False)
    b.begin_stop()
    _STOPPING.append((request.node.nodeid, b))
    _reap(_MAX_STOPPING)


@pytest.fixture
def paho(broker):
    """paho(client_id="", version=pahoc.V5, clean=True) -> PahoClient (not yet connected)."""

    def make(client_id="", version=pahoc.V5, clean=True):
        c = pahoc.PahoClient(broker.host, broker.port, client_id, version, clean)
        broker.clients.append(c)
        return c

    return make


@pytest.fixture
def is_mosquitto():
    return brokerproc.KIND == "mosquitto"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless Chromium for the dashboard tests, one per test module
    (tests/integration/browser.py); skips when Chromium or playwright-core
    is not installed."""
    from browser import Browser, skip_unless_available
    skip_unless_available()
    b = Browser(tmp_path_factory.mktemp("browser"))
    yield b
    b.close()
