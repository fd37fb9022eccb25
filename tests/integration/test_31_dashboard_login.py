"""The dashboard with [admin] auth = "login": the page asks for a login,
refuses a wrong password, lets an admin and a viewer in (their role in the
header), and shows a viewer no control that changes state. A real headless
Chromium against the real broker; screenshots in the test's tmp folder."""

import base64
import hashlib
import os

import pytest

import brokerproc

pytestmark = pytest.mark.strata_only

# The browser logs the 401 of the first /status, before the login, as a
# failed resource load: expected here, and only here.
UNAUTHORIZED = "status of 401"


def admin_user(name, role, password, iterations=1000):
    """A users-file line (broker/auth/admin_users.hpp), hashed here with
    Python's own PBKDF2 so the test does not depend on the broker's code."""
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    return "%s:%s:$pbkdf2-sha512$%d$%s$%s\n" % (name, role, iterations, base64.b64encode(salt).decode(),
                                                base64.b64encode(digest).decode())


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    d = tmp_path_factory.mktemp("dashboard-login")
    users = d / "admin-users"
    users.write_text(admin_user("alice", "admin", "alice-secret") + admin_user("victor", "viewer", "victor-secret"))
    os.chmod(users, 0o600)
    (d / "rules").mkdir()
    (d / "rules" / "shout.lua").write_text('topics = "x/#"\nfunction on_message(m) m.payload = m.payload .. "!" end\n')
    b = brokerproc.Broker(d, {"admin": {"auth": "login", "users_file": str(users)},
                              "rules": {"dir": str(d / "rules"), "reload_interval": 0}})
    b.start()
    yield b
    b.close_clients()
    assert b.stop() == 0
    assert b.health_problems() == []


def log_in(browser, broker, user, password):
    browser.open(broker.admin_url + "/#/overview")
    browser.wait("form input[name=username]")
    assert "#/login" in browser.eval("location.hash")
    browser.fill("input[name=username]", user)
    browser.fill("input[name=password]", password)
    browser.press("Enter")


def test_wrong_password_is_refused(shared, browser, tmp_path):
    log_in(browser, shared, "alice", "not-her-password")
    assert browser.wait_text("[data-testid=login-error]", "Wrong user name or password")
    browser.screenshot(tmp_path / "login-refused.png")
    # The refused login's 401 is logged like the first one; nothing else.
    assert [m for m in browser.messages() if UNAUTHORIZED not in m["text"]] == []


def test_admin_logs_in(shared, browser, tmp_path):
    shared.raw_connect("dash-login-client")
    log_in(browser, shared, "alice", "alice-secret")
    browser.wait_text("[data-testid=who]", r"^alice \(admin\)")
    browser.wait_text("[data-testid=connection]", "Live")
    browser.wait_text("[data-testid=connections]", r"^1$")
    assert browser.eval("location.hash") == "#/overview"
    browser.screenshot(tmp_path / "overview-admin.png")
    assert browser.errors(allow=[UNAUTHORIZED]) == []


def test_viewer_sees_no_mutating_controls(shared, browser, tmp_path):
    log_in(browser, shared, "victor", "victor-secret")
    browser.wait_text("[data-testid=who]", r"^victor \(viewer\)")
    browser.wait_text("[data-testid=connection]", "Live")
    # Every control that changes broker state carries data-mutating; a
    # viewer is shown none of them.
    assert browser.count("[data-mutating]") == 0
    browser.screenshot(tmp_path / "overview-viewer.png")
    # The Namespace page: no publish panel, no clearing of retained messages.
    browser.eval("location.hash = '#/namespace'")
    browser.wait("[data-testid=search]")
    assert browser.count("[data-mutating]") == 0
    assert browser.count("[data-testid=clear-filter]") == 0
    # Logging out goes back to the login page and the token is gone.
    browser.click("[data-testid=who] button")
    browser.wait("form input[name=username]")
    assert browser.eval("sessionStorage.getItem('strata.token')") is None
    assert browser.errors(allow=[UNAUTHORIZED]) == []


def test_viewer_reads_and_dry_runs_rules_but_changes_nothing(shared, browser, tmp_path):
    log_in(browser, shared, "victor", "victor-secret")
    browser.wait_text("[data-testid=who]", r"^victor \(viewer\)")
    browser.eval("location.hash = '#/rules/shout'")
    browser.wait_text("tr[data-rule=shout] [data-testid=state]", "^Enabled$")
    browser.wait_text(".editor .CodeMirror-code", "on_message")
    # No save, no enable/disable, no new rule; a dry run changes nothing, so a viewer may.
    assert browser.count("[data-mutating]") == 0
    browser.fill("[data-testid=sample-topic-0]", "x/a")
    browser.fill("[data-testid=sample-payload-0]", "hi")
    browser.click("[data-testid=dry-run-button]")
    browser.wait_text("[data-testid=result-0] [data-testid=result]", "^pass x/a hi!$")
    browser.eval("location.hash = '#/contracts'")
    browser.wait("[data-testid=test-button]")
    assert browser.count("[data-mutating]") == 0
    browser.screenshot(tmp_path / "rules-viewer.png")
    assert browser.errors(allow=[UNAUTHORIZED]) == []
