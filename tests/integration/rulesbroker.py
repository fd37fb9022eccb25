"""A broker with its own rules directory, for the rule engine's tests
(test_13_rules.py, test_19_rules_names.py): the `rules_broker` fixture,
$SYS/rules/<name>/ rounds and `strata --rules-test` runs."""

import os
import subprocess
import time

import pytest

import brokerproc
import pahoc


class RulesBroker:
    """A broker with its own rules directory (written before start)."""

    def __init__(self, workdir, rules, files=None, rules_config=None, sys_interval=0):
        self.dir = os.path.join(str(workdir), "rules")
        os.makedirs(self.dir, exist_ok=True)
        for name, text in rules.items():
            self.write(name, text)
        for name, text in (files or {}).items():
            self.write(name, text)
        cfg = {"dir": self.dir, "reload_interval": 1}
        cfg.update(rules_config or {})
        self.broker = brokerproc.Broker(workdir, {"rules": cfg, "sys": {"interval": sys_interval}})
        self.broker.start()

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)  # atomic: the scanner never sees half a file

    def client(self, client_id="", version=pahoc.V5):
        c = pahoc.PahoClient(self.broker.host, self.broker.port, client_id, version, True)
        self.broker.clients.append(c)
        c.connect()
        return c

    def subscriber(self, *topics):
        c = self.client()
        for t in topics:
            c.subscribe(t, qos=1)
        return c

    def wait_log(self, text, timeout=5.0, count=1):
        deadline = time.monotonic() + timeout
        while self.broker.log.count(text) < count:
            assert time.monotonic() < deadline, "no %r (x%d) in the log:\n%s" % (text, count, self.broker.log_tail(30))
            time.sleep(0.05)


@pytest.fixture
def rules_broker(tmp_path):
    made = []

    def make(rules, **kw):
        rb = RulesBroker(tmp_path / ("b%d" % len(made)), rules, **kw)
        made.append(rb)
        return rb

    yield make
    problems = []
    for rb in made:
        rb.broker.close_clients()
        try:
            rb.broker.stop()
        except brokerproc.BrokerError as e:
            problems.append(str(e))
        problems += rb.broker.health_problems()
    if problems:
        pytest.fail("broker problems:\n  " + "\n  ".join(problems), pytrace=False)


def payloads(msgs):
    return [(m.topic, m.payload.decode()) for m in msgs]


def sys_values(rb, rule, want, timeout=5.0):
    """Waits for a $SYS/rules/<rule>/ round (ending with `state`) holding `want`; returns the round."""
    mon = rb.subscriber("$SYS/rules/%s/#" % rule)
    seen = {}
    deadline = time.monotonic() + timeout
    while True:
        m = mon.wait_message(timeout=max(0.1, deadline - time.monotonic()))
        key = m.topic.rsplit("/", 1)[1]
        seen[key] = m.payload.decode()
        if key == "state" and all(seen.get(k) == v for k, v in want.items()):
            return seen
        assert time.monotonic() < deadline, "no $SYS round with %r; last %r" % (want, seen)


def run_strata(*args, timeout=20):
    return subprocess.run([brokerproc.strata_bin()] + list(args), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
