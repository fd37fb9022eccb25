"""Strata's process life: signals, command line, config errors, logging."""

import os
import signal
import socket
import subprocess
import time

import pytest

import brokerproc
import raw
from raw import V311

pytestmark = pytest.mark.strata_only


def run(*args, timeout=10):
    return subprocess.run([brokerproc.strata_bin()] + list(args), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture
def own_broker(tmp_path):
    """Brokers a test starts and stops itself; checked for crashes at the end."""
    made = []

    def make(config=None, **kw):
        b = brokerproc.Broker(tmp_path / ("b%d" % len(made)), config, **kw)
        made.append(b)
        return b

    yield make
    problems = []
    for b in made:
        b.close_clients()
        try:
            if b.running():
                b.kill()
        except brokerproc.BrokerError as e:
            problems.append(str(e))
        for marker in brokerproc.SANITIZER_MARKERS:
            if marker in b.log:
                problems.append("sanitizer report: %s" % marker)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def _port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


# --- signals ----------------------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_graceful_stop_sends_0x8b_and_exits_0(own_broker, sig):
    b = own_broker().start()
    v5 = b.raw_connect("v5")
    v3 = b.raw_connect("v3", version=V311)
    b.proc.send_signal(sig)
    d = v5.expect_disconnect(0x8B, timeout=5.0)
    assert d.rc == 0x8B
    assert v3.recv_until_closed(5.0) == []
    assert b.proc.wait(10) == 0
    assert not _port_open(b.port)


def test_graceful_stop_with_many_clients(own_broker):
    b = own_broker().start()
    clients = [b.raw_connect("c%d" % i) for i in range(50)]
    for c in clients[:25]:
        c.subscribe(("stop/#", 1), expect=[1])
    b.proc.send_signal(signal.SIGTERM)
    for c in clients:
        c.expect_disconnect(0x8B, timeout=15.0)
    assert b.proc.wait(30) == 0


def test_sighup_keeps_serving(own_broker):
    b = own_broker({"sys": {"interval": 10}}).start()
    c = b.raw_connect("hup")
    c.subscribe(("hup/t", 1), expect=[1])
    b.proc.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    assert b.running()
    c.ping()
    p = b.raw_connect("p")
    p.publish("hup/t", b"after reload", qos=1)
    assert c.expect(raw.PUBLISH).payload == b"after reload"
    assert b.stop() == 0


def test_sighup_applies_new_sys_interval(own_broker):
    b = own_broker({"sys": {"interval": 0}}).start()
    c = b.raw_connect("hup")
    c.subscribe(("$SYS/broker/uptime", 0), expect=[0])
    c.expect_nothing(1.2)
    with open(b.conf_path, "w") as f:
        f.write(brokerproc.to_toml({"sys": {"interval": 1}}))
    b.proc.send_signal(signal.SIGHUP)
    m = c.expect(raw.PUBLISH, timeout=3.0)
    assert m.topic == "$SYS/broker/uptime"
    assert b.stop() == 0


# --- command line ---------------------------------------------------------------------------------

def test_version():
    r = run("--version")
    assert r.returncode == 0
    assert r.stdout.lower().startswith("strata ")
    assert any(ch.isdigit() for ch in r.stdout)


def test_help():
    r = run("--help")
    assert r.returncode == 0
    for opt in ("--listen", "--data-dir", "--log-level", "--check-config", "--version", "-c"):
        assert opt in r.stdout, opt


def test_unknown_option_fails():
    r = run("--no-such-option")
    assert r.returncode != 0
    assert "--no-such-option" in (r.stderr + r.stdout)


def test_bad_listen_url_fails():
    r = run("--listen", "udp://127.0.0.1:1", "--data-dir", "/nonexistent-strata-test")
    assert r.returncode != 0
    assert "udp://127.0.0.1:1" in (r.stderr + r.stdout)


def test_check_config_accepts_reference_config():
    ref = os.path.join(brokerproc.REPO, "etc", "strata.toml")
    r = run("--check-config", ref)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("text,line,word", [
    ("[limits]\nreceive_maximum = 10\nmax_packet_size = \"big\"\n", 3, "max_packet_size"),
    ("[limits]\nreceive_maximum = 0\n", 2, "receive_maximum"),
    ("[limits]\nmaximum_qos = 3\n", 2, "maximum_qos"),
    ("[broker]\nthreads = 1\n\n[limits]\nbogus_key = 1\n", 5, "bogus_key"),
    ("[nonsense]\nx = 1\n", 1, "nonsense"),
    ("[sys]\ninterval = -1\n", 2, "interval"),
    ("[limits\nreceive_maximum = 10\n", 1, None),
    ("[[listener]]\nurl = \"tcp://127.0.0.1:99999\"\n", 2, "url"),
])
def test_check_config_reports_file_and_line(tmp_path, text, line, word):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    r = run("--check-config", str(path))
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "bad.toml:%d" % line in out, out
    if word:
        assert word.lower() in out.lower(), out


def test_bad_config_fails_start_up_with_file_and_line(tmp_path):
    path = tmp_path / "start.toml"
    path.write_text("[limits]\nmax_connections = 10\nunknown_limit = 5\n")
    port = brokerproc.free_port()
    r = run("-c", str(path), "--listen", "tcp://127.0.0.1:%d" % port, "--data-dir", str(tmp_path / "d"))
    assert r.returncode != 0
    assert "start.toml:3" in r.stderr + r.stdout
    assert "unknown_limit" in r.stderr + r.stdout
    assert not _port_open(port)


def test_missing_config_file_fails(tmp_path):
    r = run("-c", str(tmp_path / "absent.toml"), "--listen", "tcp://127.0.0.1:%d" % brokerproc.free_port())
    assert r.returncode != 0
    assert "absent.toml" in r.stderr + r.stdout


def test_listen_replaces_config_listeners(own_broker):
    other = brokerproc.free_port()
    b = own_broker({"listener": [{"url": "tcp://127.0.0.1:%d" % other}]}).start()
    assert _port_open(b.port)
    assert not _port_open(other)
    assert b.stop() == 0


def test_two_listen_urls(own_broker):
    second = brokerproc.free_port()
    b = own_broker(extra_args=["--listen", "tcp://127.0.0.1:%d" % second]).start()
    s = b.raw_connect("on-first")
    s.subscribe(("two/t", 0), expect=[0])
    p = raw.RawClient("127.0.0.1", second)
    b.clients.append(p)
    p.connect("on-second")
    p.publish("two/t", b"across listeners")
    assert s.expect(raw.PUBLISH).payload == b"across listeners"
    assert b.stop() == 0


def test_port_in_use_fails_start_up(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = run("--listen", "tcp://127.0.0.1:%d" % port, "--data-dir", str(tmp_path / "d"))
        assert r.returncode != 0
        assert str(port) in r.stderr + r.stdout


# --- logging ------------------------------------------------------------------------------------

def test_info_log_has_nothing_per_message(own_broker):
    b = own_broker(log_level="info").start()
    s = b.raw_connect("s")
    s.subscribe(("log/t", 1), expect=[1])
    p = b.raw_connect("p")
    time.sleep(0.2)
    before = len(b.log.splitlines())
    for i in range(200):
        p.publish("log/t", b"%d" % i, qos=1, pid=i % 100 + 1)
        m = s.expect(raw.PUBLISH)
        s.send(raw.puback(m.pid))
    time.sleep(0.2)
    after = len(b.log.splitlines())
    assert after - before < 10, "info log grew by %d lines for 200 messages" % (after - before)
    assert b.stop() == 0


def test_log_lines_have_time_level_component(own_broker):
    b = own_broker(log_level="debug").start()
    c = b.raw_connect("logged")
    c.disconnect()
    time.sleep(0.2)
    assert b.stop() == 0
    lines = [l for l in b.log.splitlines() if l.strip()]
    assert lines
    for l in lines:
        assert any(ch.isdigit() for ch in l[:30]), "no time at the start of %r" % l
        assert any(level in l.lower() for level in ("trace", "debug", "info", "warn", "error")), l


def test_restart_on_same_port(own_broker):
    b = own_broker().start()
    c = b.raw_connect("before")
    c.ping()
    b.restart()
    c2 = b.raw_connect("after")
    c2.ping()
    assert b.stop() == 0
