"""History: Strata records the topics of [historian] filters — plain numbers
and each numeric/boolean field of JSON payloads, at the payload's own
timestamp — with minute and hour rollups kept as data arrives (late and
out-of-order points included), and answers range queries.

The broker is a real strata; publishers are raw MQTT clients. Until the
admin HTTP server serves /api/v1/history, queries are answered by
`strata --history PATH?QUERY` from the store of the stopped broker (the same
request handlers the HTTP endpoints use). Every aggregate and fill mode is
compared with values computed here from what was published.
"""

import json
import math
import subprocess

import pytest

import brokerproc
import common
import raw

pytestmark = pytest.mark.strata_only

T0 = 1796540400000  # 2026-12-06T07:00:00Z, on an hour
STEP = 10_000       # one point every 10 s
N = 720             # two hours
GAP = range(180, 210)  # minutes 30..34 have no points
MINUTE = 60_000
HOUR = 3_600_000

HISTORIAN = {"enabled": True, "filters": ["plant/#"], "exclude": ["plant/secret/#"], "timestamp_field": "ts"}


def history(b, request, body=None):
    """Answers a history request from the (stopped) broker's store:
    (exit code, body text)."""
    cmd = [brokerproc.strata_bin(), "-c", b.conf_path, "--data-dir", b.data_dir, "--log-level", "warn",
           "--history", request]
    if body is not None:
        cmd += ["--body", json.dumps(body)]
    p = subprocess.run(cmd, capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode()


def history_json(b, request, body=None):
    rc, out = history(b, request, body)
    assert rc == 0, out
    return json.loads(out)


def publish_acked(c, messages, window=200):
    """Publishes [(topic, payload)] at QoS 1 keeping up to `window`
    unacknowledged; returns the payloads acknowledged, stopping at the first
    sign of a closed connection."""
    acked = []
    pid = 0
    for start in range(0, len(messages), window):
        pids = {}
        out = bytearray()
        for topic, payload in messages[start:start + window]:
            pid = pid % 65535 + 1
            pids[pid] = payload
            out += raw.publish(topic, payload, qos=1, pid=pid, version=c.version)
        try:
            c.send(out)
            while pids:
                p = c.recv(10.0)
                assert p.type == raw.PUBACK and p.rc < 0x80, p
                acked.append(pids.pop(p.pid))
        except (raw.Closed, ConnectionError, OSError):
            return acked
    return acked


def temp_of(i):
    return round(20 + 5 * math.sin(i / 20), 2)


def ts_of(i):
    """The payload timestamp in the three accepted forms, in turn."""
    t = T0 + i * STEP
    if i % 3 == 0:
        s = (t // 1000)
        return "%s.%03dZ" % (_rfc3339(s), t % 1000)
    if i % 3 == 1:
        return t
    return t / 1000.0


def _rfc3339(unix_s):
    import datetime
    return datetime.datetime.fromtimestamp(unix_s, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def expected(points, frm, to, agg):
    inside = sorted((t, v) for t, v in points if frm <= t < to)
    if not inside:
        return None
    vals = [v for _, v in inside]
    return {"avg": sum(vals) / len(vals), "min": min(vals), "max": max(vals), "sum": sum(vals),
            "count": len(vals), "first": inside[0][1], "last": inside[-1][1]}[agg]


def expected_rows(points, frm, to, interval, agg, fill):
    rows = []
    for b in range(frm - frm % interval, to, interval):
        rows.append([b, expected(points, max(b, frm), min(b + interval, to), agg)])
    if fill == "none":
        return [r for r in rows if r[1] is not None]
    if fill == "previous":
        prev = None
        for r in rows:
            if r[1] is None:
                r[1] = prev
            prev = r[1]
    if fill == "linear":
        known = [(i, r[1]) for i, r in enumerate(rows) if r[1] is not None]
        for i, r in enumerate(rows):
            if r[1] is None:
                before = [k for k in known if k[0] < i]
                after = [k for k in known if k[0] > i]
                if before and after:
                    (i0, v0), (i1, v1) = before[-1], after[0]
                    r[1] = v0 + (v1 - v0) * (i - i0) / (i1 - i0)
    return rows


def assert_rows(got, want):
    assert len(got) == len(want), (got[:5], want[:5])
    for (gt, gv), (wt, wv) in zip(got, want):
        assert gt == wt
        if wv is None:
            assert gv is None, (gt, gv)
        else:
            assert gv is not None and abs(gv - wv) <= 1e-9 * max(1, abs(wv)), (gt, gv, wv)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A broker that recorded the plant data and was stopped: (broker, points)."""
    b = brokerproc.Broker(tmp_path_factory.mktemp("history"), {
        "historian": HISTORIAN, "store": {"durability": "sync"}})
    b.start()
    points = {"temp": [], "rpm": [], "ok": []}
    msgs = []
    order = list(range(N))
    # The last 50 points come first; a stretch is published in reverse:
    # late and out-of-order data.
    order = order[-50:] + order[:300][::-1] + order[300:-50]
    for i in order:
        if i in GAP:
            continue
        t = T0 + i * STEP
        payload = {"ts": ts_of(i), "temp": temp_of(i), "rpm": 1000 + i % 7, "ok": i % 2 == 0, "unit": "C"}
        msgs.append(("plant/line1/press", json.dumps(payload).encode()))
        points["temp"].append((t, temp_of(i)))
        points["rpm"].append((t, 1000 + i % 7))
        points["ok"].append((t, 1 if i % 2 == 0 else 0))
    msgs += [("plant/line1/level", b"42.5"), ("plant/line1/level", b" 43 "), ("plant/secret/key", b"1"),
             ("other/x", b"1"), ("plant/line1/state", b"running")]
    c = b.raw_connect("history-pub")
    acked = publish_acked(c, msgs)
    assert len(acked) == len(msgs)
    c.disconnect()
    assert b.stop() == 0
    yield b, points
    assert not b.health_problems(), b.log_tail()


def test_series_are_the_numeric_fields_of_matching_topics(recorded):
    b, _ = recorded
    got = history_json(b, "/api/v1/history/series?filter=%23")["series"]
    assert [s["series"] for s in got] == ["plant/line1/level", "plant/line1/press#ok", "plant/line1/press#rpm",
                                          "plant/line1/press#temp"]
    press = got[3]
    assert press["points"] == N - len(GAP)
    assert press["first_ms"] == T0 and press["last_ms"] == T0 + (N - 1) * STEP
    last = history_json(b, "/api/v1/history/last?filter=plant/%2B/level")["series"]
    assert [(s["series"], s["value"]) for s in last] == [("plant/line1/level", 43)]


def test_raw_points_come_back_in_time_order_at_their_payload_time(recorded):
    b, points = recorded
    for field in ("temp", "rpm", "ok"):
        body = history_json(b, "/api/v1/history?series=plant/line1/press%23" + field + "&epoch=ms")
        series = body["results"][0]["series"][0]
        assert series["columns"] == ["time", "value"]
        assert [tuple(v) for v in series["values"]] == sorted(points[field])


@pytest.mark.parametrize("agg", ["avg", "min", "max", "sum", "count", "first", "last"])
def test_every_aggregate_and_fill_mode(recorded, agg):
    b, points = recorded
    frm, to = T0, T0 + 2 * HOUR
    for fill in ("none", "null", "previous", "linear"):
        body = history_json(b, "/api/v1/history?series=plant/line1/press%%23temp&from=%d&to=%d&interval=1m"
                               "&agg=%s&fill=%s&epoch=ms" % (frm, to, agg, fill))
        series = body["results"][0]["series"][0]
        assert series["columns"] == ["time", agg]
        assert series["tags"]["tier"] == "minute"
        assert_rows(series["values"], expected_rows(points["temp"], frm, to, MINUTE, agg, fill))


@pytest.mark.parametrize("frm,to,interval,ms,tier", [
    ("2026-12-06T07:00:00Z", "2026-12-06T09:00:00Z", "1h", HOUR, "hour"),
    ("2026-12-06T07:00:00Z", "2026-12-06T08:30:00Z", "1h", HOUR, "minute"),  # to not on an hour
    ("2026-12-06T07:00:30Z", "2026-12-06T09:00:00Z", "5m", 5 * MINUTE, "raw"),  # from inside a minute
    ("2026-12-06T07:00:00Z", "2026-12-06T09:00:00Z", "90s", 90_000, "raw"),
])
def test_tier_selection_gives_the_same_answer(recorded, frm, to, interval, ms, tier):
    b, points = recorded
    body = history_json(b, "/api/v1/history?series=plant/line1/press%%23rpm&from=%s&to=%s&interval=%s&agg=avg"
                           "&epoch=ms" % (frm, to, interval))
    series = body["results"][0]["series"][0]
    assert series["tags"]["tier"] == tier
    import datetime
    parse = lambda s: int(datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000)  # noqa: E731
    assert_rows(series["values"], expected_rows(points["rpm"], parse(frm), parse(to), ms, "avg", "none"))


def test_several_series_at_once_and_csv_export(recorded):
    b, points = recorded
    body = history_json(b, "/api/v1/history/query", {"series": ["plant/line1/press#rpm", "plant/+/level"],
                                                     "from": T0, "to": T0 + 30_000})
    names = [s["name"] for s in body["results"][0]["series"]]
    assert names == ["plant/line1/press#rpm", "plant/line1/level"]
    assert body["results"][0]["series"][0]["values"] == [
        ["2026-12-06T07:00:00.000Z", 1000], ["2026-12-06T07:00:10.000Z", 1001], ["2026-12-06T07:00:20.000Z", 1002]]
    rc, csv = history(b, "/api/v1/history?series=plant/line1/press%23temp&from=2026-12-06T07:00:00Z"
                         "&to=2026-12-06T07:03:00Z&interval=1m&agg=max&format=csv")
    assert rc == 0
    want = "series,time,value\n" + "".join(
        "plant/line1/press#temp,2026-12-06T07:0%d:00.000Z,%s\n" % (m, _num(expected(
            points["temp"], T0 + m * MINUTE, T0 + (m + 1) * MINUTE, "max"))) for m in range(3))
    assert csv == want


def _num(v):
    return str(int(v)) if v == int(v) else repr(v)


@pytest.mark.parametrize("request_,message", [
    ("/api/v1/history?series=plant/line1/press%23temp&agg=median&interval=1m",
     "agg 'median' is not one of avg, min, max, sum, count, first, last"),
    ("/api/v1/history?series=plant/line1/press%23temp&from=yesterday",
     "from 'yesterday' is not a time; expected RFC 3339 or unix ms"),
    ("/api/v1/history?series=plant/line1/press%23temp&fill=linear", "fill needs an interval"),
    ("/api/v1/history?series=plant/secret/key", "no series 'plant/secret/key'"),
])
def test_bad_queries_get_a_clear_error(recorded, request_, message):
    b, _ = recorded
    rc, out = history(b, request_)
    assert rc == 1
    assert json.loads(out) == {"code": "NOT_FOUND" if message.startswith("no series") else "BAD_REQUEST",
                               "message": message}


@pytest.mark.broker_config(historian=HISTORIAN, store={"durability": "sync"})
def test_kill9_under_sync_loses_no_acknowledged_point(broker):
    c = broker.raw_connect("history-kill")
    msgs = [("plant/kill/v", str(i).encode()) for i in range(3000)]
    acked = publish_acked(c, msgs[:2000], window=250)
    assert len(acked) == 2000
    # The rest in flight while the broker dies.
    c.send(b"".join(raw.publish(t, p, qos=1, pid=i + 1, version=c.version)
                    for i, (t, p) in enumerate(msgs[2000:])))
    try:
        for _ in range(100):
            p = c.recv(5.0)
            acked.append(msgs[2000 + p.pid - 1][1])
    except (raw.Closed, raw.Timeout, OSError):
        pass
    broker.kill()
    rc, out = history(broker, "/api/v1/history?series=plant/kill/v&epoch=ms")
    assert rc == 0, out
    values = [v for _, v in json.loads(out)["results"][0]["series"][0]["values"]]
    stored = {str(v).encode() for v in values}
    missing = [p for p in acked if p not in stored]
    duplicates = len(values) - len(set(values))
    print("acknowledged %d, stored %d, duplicates %d" % (len(acked), len(values), duplicates))
    assert not missing, "acknowledged but not in history: %r" % missing[:10]
    assert duplicates == 0
    broker.start()  # healthy again for the fixture's teardown


@pytest.mark.broker_config(historian=dict(HISTORIAN, raw="2s"), sys={"interval": 1})
def test_retention_prunes_raw_points_and_keeps_rollups(broker):
    import time
    now = int(time.time() * 1000)
    old = now - 2 * HOUR
    c = broker.raw_connect("history-old")
    msgs = [("plant/old/v", json.dumps({"ts": old + i * 1000, "v": i}).encode()) for i in range(100)]
    msgs += [("plant/new/v", json.dumps({"ts": now + HOUR + i * 1000, "v": i}).encode()) for i in range(10)]
    assert len(publish_acked(c, msgs)) == len(msgs)
    sub = broker.raw_connect("history-sys")
    sub.subscribe(("$SYS/broker/historian/pruned_points", 0), expect=[0])

    def pruned():
        for p in common.collect_publishes(sub, timeout=0.3):
            if int(p.payload) >= 100:
                return True
        return False
    common.wait_until(pruned, timeout=30, what="the old points pruned")
    c.disconnect()
    sub.disconnect()
    broker.stop()
    body = history_json(broker, "/api/v1/history?series=plant/old/v%23v&epoch=ms")
    assert body["results"][0]["series"][0]["values"] == []
    # The minute rollups stay (90 days by default).
    body = history_json(broker, "/api/v1/history?series=plant/old/v%%23v&from=%d&to=%d&interval=1m&agg=count"
                                "&epoch=ms" % (old - old % MINUTE, old - old % MINUTE + 10 * MINUTE))
    assert body["results"][0]["series"][0]["tags"]["tier"] == "minute"
    assert sum(v for _, v in body["results"][0]["series"][0]["values"]) == 100
    body = history_json(broker, "/api/v1/history?series=plant/new/v%23v&epoch=ms")
    assert [v for _, v in body["results"][0]["series"][0]["values"]] == list(range(10))
    broker.start()


def test_a_bad_historian_section_stops_start_up_with_its_line(tmp_path):
    conf = tmp_path / "bad.toml"
    conf.write_text("[historian]\nenabled = true\nraw = \"soon\"\n")
    p = subprocess.run([brokerproc.strata_bin(), "--check-config", str(conf)], capture_output=True, timeout=30)
    assert p.returncode == 1
    assert p.stderr.decode().strip() == (
        "%s:3:7: historian.raw 'soon' is not a retention; expected a duration of at least 1s like "
        "\"30s\", \"7d\", \"5y\"" % conf)
    conf.write_text("[historian]\nfilters = [\"a/#/b\"]\n")
    p = subprocess.run([brokerproc.strata_bin(), "-c", str(conf), "--data-dir", str(tmp_path / "d")],
                       capture_output=True, timeout=30)
    assert p.returncode == 1
    assert "bad.toml:2:11: historian.filters: 'a/#/b' is not a valid MQTT topic filter" in p.stderr.decode()


def http(b, method, path, body=None):
    """(status, content type, body text) of an admin API request."""
    import urllib.error
    import urllib.request
    req = urllib.request.Request(b.admin_url + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


@pytest.mark.broker_config(historian=HISTORIAN, store={"durability": "sync"})
def test_http_endpoints_answer_from_the_running_broker(broker):
    c = broker.raw_connect("history-http")
    msgs = [("plant/h/press", json.dumps({"ts": T0 + i * 1000, "temp": i % 10, "rpm": 100 + i}).encode())
            for i in range(180)]
    assert len(publish_acked(c, msgs)) == len(msgs)  # sync: acknowledged = in history
    status, ctype, body = http(broker, "GET", "/api/v1/history?series=plant/h/press%%23temp&from=%d&to=%d"
                                               "&interval=1m&agg=sum&epoch=ms" % (T0, T0 + 3 * MINUTE))
    assert status == 200, body
    series = json.loads(body)["results"][0]["series"][0]
    assert series["tags"]["tier"] == "minute"
    assert series["values"] == [[T0 + m * MINUTE, 270] for m in range(3)]
    status, ctype, body = http(broker, "GET", "/api/v1/history?series=plant/h/press%%23rpm&from=%d&to=%d"
                                               "&format=csv&epoch=ms" % (T0, T0 + 2000))
    assert (status, ctype) == (200, "text/csv")
    assert body == "series,time,value\nplant/h/press#rpm,%d,100\nplant/h/press#rpm,%d,101\n" % (T0, T0 + 1000)
    status, _, body = http(broker, "POST", "/api/v1/history/query",
                           {"series": ["plant/+/press"], "from": T0, "to": T0 + 1000})
    assert status == 200
    assert [s["name"] for s in json.loads(body)["results"][0]["series"]] == ["plant/h/press#rpm",
                                                                           "plant/h/press#temp"]
    status, _, body = http(broker, "GET", "/api/v1/history/last?filter=plant/%23")
    assert json.loads(body)["series"][0]["value"] == 279
    status, _, body = http(broker, "GET", "/api/v1/history/series?filter=plant/h/press%23temp")
    assert json.loads(body)["series"][0]["points"] == 180
    status, _, body = http(broker, "GET", "/api/v1/history?series=plant/h/press%23temp&fill=sideways&interval=1m")
    assert status == 400
    assert json.loads(body) == {"code": "BAD_REQUEST",
                                "message": "fill 'sideways' is not one of none, null, previous, linear"}
    c.disconnect()
