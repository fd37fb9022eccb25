"""History replay (issue 14, "Replay and migration"): a strata A records
plant/# (historian, raw messages kept) and has an mqtt bridge to a second
strata B whose only live route is marker/#, so plant messages reach B only
through a replay job. A job re-sends a time sub-range of what A recorded
through the bridge's outbox, marked with `strata-replay` and `strata-time`
user properties; A is killed (SIGKILL) and stopped (SIGTERM) in the middle
of the job and resumes where it stopped. A live marker message published
after the job (the outbox is delivered in order) is the barrier after
which B has everything the job appended.

Replay is at-least-once: a restart can re-send the last step's batch
(replayer.hpp) and the bridge re-sends what it had not seen confirmed
(counted by the bridge as `resent`); duplicates are counted, reported and
bounded by those two."""

import json
import os
import subprocess
import time

import pytest

import brokerproc
import pahoc
from adminhttp import AdminClient
from common import wait_until
from test_24_bridge import Strata, bridge

pytestmark = pytest.mark.skipif(brokerproc.KIND != "strata", reason="history replay is a strata feature")

N = 60            # recorded messages plant/r/0..59
RANGE = range(20, 40)  # the sub-range replayed by the first test
RATE = 8          # messages/s: a 2.5 s job, mid-way when killed
BATCH = 1         # what one replay step offers at RATE (replayer.hpp: two ticks of tokens, at least one)


def now_ms():
    return int(time.time() * 1000)


def next_ms():
    """A time strictly after every receive time A gave so far, once the clock
    has reached it."""
    t = now_ms() + 1
    wait_until(lambda: now_ms() >= t, 1, interval=0.001, what="the clock to pass %d" % t)
    return t


class Collector:
    """A v5 subscriber on B that keeps every message in arrival order."""

    def __init__(self, broker):
        self.c = pahoc.PahoClient(broker.host, broker.port, "replay-sub", pahoc.V5)
        self.c.connect()
        self.c.subscribe("plant/#", 1)
        self.c.subscribe("marker/#", 1)
        self.got = []

    def take(self):
        self.got += self.c.drain()
        return self.got

    def barrier(self, a, name, timeout=20):
        """Publishes marker/<name> on A and waits for it on B: everything A's
        outbox held before it has been delivered."""
        p = pahoc.PahoClient(a.host, a.port, "marker-" + name, pahoc.V5)
        p.connect()
        p.publish("marker/" + name, b"x", qos=1)
        p.close()
        wait_until(lambda: any(m.topic == "marker/" + name for m in self.take()), timeout,
                   what="marker/%s on B" % name)

    def replayed(self, job_id):
        out = []
        for m in self.take():
            props = dict(m.prop("UserProperty") or [])
            if props.get("strata-replay") == job_id:
                out.append((int(m.payload.decode().split("-")[1]), int(props["strata-time"]), m))
        return out


@pytest.fixture(scope="module")
def tiers(tmp_path_factory):
    d = tmp_path_factory.mktemp("replay")
    for sub in ("a", "b"):
        (d / sub).mkdir()
    b = brokerproc.Broker(d / "b", {}).start()
    a = Strata(d / "a", {"store": {"durability": "batch"},
                         "historian": {"enabled": True, "filters": ["plant/#"]},
                         "__bridges__": [bridge("up", b.port, [{"filter": "marker/#", "qos": 1}])]}).start()
    wait_until(lambda: "up: connected" in a.log, 10, what="bridge connected")
    sub = Collector(b)
    # N recorded messages, QoS 1 (acknowledged: recorded), with the
    # receive times of the replayed sub-range bracketed by `lo` and `hi`.
    pub = pahoc.PahoClient(a.host, a.port, "replay-pub", pahoc.V5)
    pub.connect()
    times = {}
    for i in range(N):
        if i == RANGE.start:
            times["lo"] = next_ms()
        if i == RANGE.stop:
            times["hi"] = next_ms()
        pub.publish("plant/r/%d" % i, b"m-%d" % i, qos=1)
    times["end"] = next_ms()
    pub.close()
    yield a, b, sub, times
    sub.c.close()
    a.close_clients()
    a.stop()
    b.stop()
    assert a.health_problems() == [] and b.health_problems() == []


def job(a, job_id):
    s, body = AdminClient(a.admin_url).get("/api/v1/history/replays/" + job_id)
    assert s == 200, body
    return body


def resent(a):
    s, body = AdminClient(a.admin_url).get("/api/v1/bridges/up")
    assert s == 200, body
    return body["resent"]


def test_replay_survives_kill_and_stop(tiers):
    a, b, sub, t = tiers
    api = AdminClient(a.admin_url)
    s, started = api.post("/api/v1/history/replay", {"filter": "plant/r/#", "from": t["lo"], "to": t["hi"],
                                                     "bridge": "up", "rate": RATE})
    assert s == 202, started
    jid = started["id"]
    assert started["state"] == "running" and started["rate_limit"] == RATE
    assert (started["from_ms"], started["to_ms"], started["sent"]) == (t["lo"], t["hi"], 0)

    # Mid-way: SIGKILL, restart; later SIGTERM, restart. The bridge's
    # re-sends of each run are read before it ends.
    bridge_resent = 0
    for sig, at in (("SIGKILL", 4), ("SIGTERM", 12)):
        wait_until(lambda: job(a, jid)["sent"] >= at, 20, what="%d sent before %s" % (at, sig))
        bridge_resent += resent(a)
        if sig == "SIGKILL":
            a.kill()
        else:
            assert a.stop() == 0
        a.start()
        after = job(a, jid)
        assert after["state"] in ("running", "done"), after
        assert after["sent"] <= len(RANGE)
        if a.log_level in ("trace", "debug", "info"):
            with open(a.logs[-1], "rb") as f:
                resumed = b"replay %s resumes" % jid.encode() in f.read()
            # SIGKILL comes with 16 of 20 left (2 s at RATE), SIGTERM with 8:
            # the job is running then and resumes, unless the test itself was
            # held up so long that the job finished first (then nothing is
            # left to resume, and the counts below still hold).
            assert resumed or after["state"] == "done", "the job resumes after " + sig

    final = wait_until(lambda: (lambda j: j if j["state"] == "done" else None)(job(a, jid)), 30,
                       what="job done")
    bridge_resent += resent(a)
    sub.barrier(a, "after-kill")

    # The job: done, every message of the range sent once by its count.
    assert (final["sent"], final["skipped"], final["total"], final["total_exact"]) == (len(RANGE), 0, len(RANGE), True)
    assert final["progress"] == 1.0 and final["eta_s"] == 0 and final["error"] is None
    s, listed = api.get("/api/v1/history/replays")
    assert s == 200 and [j for j in listed["data"] if j["id"] == jid][0]["state"] == "done"

    # On B: the range, at least once, in time order, marked, nothing else.
    got = sub.replayed(jid)
    firsts, first_times = [], []
    for i, when, m in got:
        assert m.topic == "plant/r/%d" % i
        assert t["lo"] <= when < t["hi"], (i, when)
        if i not in firsts:
            firsts.append(i)
            first_times.append(when)
    assert firsts == list(RANGE), "first arrivals %r" % firsts
    assert first_times == sorted(first_times), "strata-time not in the order of the range"
    plant = [m for m in sub.take() if m.topic.startswith("plant/")]
    assert len(plant) == len(got), "plant messages on B not from the job: %r" % plant
    duplicates = len(got) - len(RANGE)
    print("replay across SIGKILL + SIGTERM: %d messages, %d duplicates (bridge resent %d)"
          % (len(got), duplicates, bridge_resent))
    assert duplicates <= 2 * BATCH + bridge_resent


def test_cancel_stops_the_job(tiers):
    a, b, sub, t = tiers
    api = AdminClient(a.admin_url)
    s, started = api.post("/api/v1/history/replay", {"filter": "plant/#", "from": t["lo"] - 60_000,
                                                     "to": t["end"], "bridge": "up", "rate": 5})
    assert s == 202, started
    jid = started["id"]
    wait_until(lambda: job(a, jid)["sent"] >= 3, 20, what="3 sent")
    s, cancelled = api.delete("/api/v1/history/replays/" + jid)
    assert s == 200, cancelled
    assert cancelled["state"] == "cancelled" and 3 <= cancelled["sent"] < N
    sub.barrier(a, "after-cancel")
    got = sub.replayed(jid)
    assert [i for i, _, _ in got] == list(range(cancelled["sent"])), "what B got of the cancelled job"
    again = job(a, jid)
    assert (again["state"], again["sent"]) == ("cancelled", cancelled["sent"])
    # Cancelling again: it is no longer running.
    s, body = api.delete("/api/v1/history/replays/" + jid)
    assert s == 409 and body["code"] == "CONFLICT" and "is cancelled, not running" in body["message"]


def ctl(*args):
    """strata-ctl beside the strata binary, with a config home of its own."""
    ctl_bin = os.path.join(os.path.dirname(brokerproc.strata_bin()), "strata-ctl")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent",
           "XDG_CONFIG_HOME": "/nonexistent"}
    return subprocess.run([ctl_bin] + list(args), capture_output=True, text=True, timeout=30, env=env)


def test_ctl_replay_list_and_cancel(tiers):
    """strata-ctl history replay (line rate), replays, replay-cancel."""
    a, b, sub, t = tiers
    url = ["--url", a.admin_url]
    r = ctl("history", "replay", "plant/r/#", "--from", str(t["lo"]), "--to", str(t["hi"]), "--bridge", "up", *url)
    assert r.returncode == 0, r.stderr
    header, row = [line.split() for line in r.stdout.splitlines()]
    assert header[:5] == ["ID", "STATE", "BRIDGE", "FILTER", "SENT"]
    jid = row[0]
    assert row[1:4] == ["running", "up", "plant/r/#"]

    def done():
        r = ctl("--json", "history", "replays", jid, *url)
        assert r.returncode == 0, r.stderr
        j = json.loads(r.stdout)
        return j if j["state"] == "done" else None
    j = wait_until(done, 20, what="the line-rate job done")
    assert (j["sent"], j["rate_limit"]) == (len(RANGE), None)
    sub.barrier(a, "after-ctl")
    assert [i for i, _, _ in sub.replayed(jid)] == list(RANGE)

    r = ctl("history", "replays", *url)
    assert r.returncode == 0, r.stderr
    states = {line.split()[0]: line.split()[1] for line in r.stdout.splitlines()[1:]}
    assert states[jid] == "done" and "cancelled" in states.values()
    r = ctl("history", "replay-cancel", jid, *url)
    assert (r.returncode, r.stderr) == (1, "strata-ctl: 409 CONFLICT: replay job %s is done, not running\n" % jid)
    r = ctl("history", "replay", "plant/#", "--from", "1", "--to", "2", *url)
    assert r.returncode == 2 and "--bridge is required" in r.stderr


@pytest.mark.parametrize("body,status,message", [
    ({"filter": "plant/#/x", "from": 1, "to": 2, "bridge": "up"}, 400,
     "filter 'plant/#/x' is not a valid MQTT topic filter"),
    ({"filter": "plant/#", "from": 5, "to": 5, "bridge": "up"}, 400, "from must be before to (the range is [from, to))"),
    ({"filter": "plant/#", "from": "last week", "to": 5, "bridge": "up"}, 400,
     "from must be an RFC 3339 time or unix ms"),
    ({"filter": "plant/#", "from": 1, "to": 2}, 400, "bridge is missing"),
    ({"filter": "plant/#", "from": 1, "to": 2, "bridge": "up", "rate": -3}, 400,
     "rate must be an integer from 0 (line rate) to 1000000 messages/s"),
    ({"filter": "plant/#", "from": 1, "to": 2, "bridge": "nope"}, 404, "no bridge 'nope'"),
])
def test_bad_requests(tiers, body, status, message):
    a = tiers[0]
    s, answer = AdminClient(a.admin_url).post("/api/v1/history/replay", body)
    assert (s, answer["message"]) == (status, message)


def test_bad_body_and_unknown_job(tiers):
    a = tiers[0]
    api = AdminClient(a.admin_url)
    s, answer = api.request("POST", "/api/v1/history/replay", raw=b"{not json",
                            headers={"Content-Type": "application/json"})[:2]
    assert (s, answer["message"]) == (400, "the body is not a JSON object")
    for method in ("GET", "DELETE"):
        s, answer = api.request(method, "/api/v1/history/replays/999")[:2]
        assert (s, answer["message"]) == (404, "no replay job '999'")


def test_historian_off_or_without_payloads(tmp_path):
    """Without the raw log there is nothing to replay: 400 with
    record_payloads off, 404 with the historian off."""
    body = {"filter": "plant/#", "from": 1, "to": 2, "bridge": "up"}
    peer = brokerproc.free_port()
    for name, historian, status, message in (
            ("nopayloads", {"enabled": True, "filters": ["plant/#"], "record_payloads": False}, 400,
             "[historian] record_payloads is off: there are no recorded messages to replay"),
            ("off", {"enabled": False}, 404,
             "the historian is off ([historian] enabled = false): nothing to replay")):
        (tmp_path / name).mkdir()
        a = Strata(tmp_path / name, {"historian": historian,
                                     "__bridges__": [bridge("up", peer, [{"filter": "marker/#"}])]}).start()
        try:
            s, answer = AdminClient(a.admin_url).post("/api/v1/history/replay", body)
            assert (s, answer["message"]) == (status, message)
            s, answer = AdminClient(a.admin_url).get("/api/v1/history/replays")
            assert s == (200 if historian["enabled"] else 404)
        finally:
            a.stop()
