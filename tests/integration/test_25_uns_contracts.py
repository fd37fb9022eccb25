"""Unified namespace (Strata): contracts applied through the admin API
(PUT/DELETE /api/v1/contracts/{name}) are kept in the store. They stay in
force across a reload (POST /api/v1/reload, which re-reads the file: the
file's new contract comes in, the API's put and removal stay), a graceful
restart and a kill -9 right after the PUT was answered. Checked with a real
MQTT 5 publisher: every PUBACK's reason code (0x99 Payload format invalid
while a contract rejects, 0x00 otherwise) and the contract list with each
one's origin."""

import pytest

import brokerproc
import raw
from adminhttp import AdminClient
from common import wait_until

pytestmark = pytest.mark.strata_only

FILEONE = {"name": "fileone", "filter": "plant8/#", "shape": "number", "action": "reject"}
EXTRA = {"name": "extra", "filter": "plant7/#", "shape": "number", "action": "reject"}
SPEED = {"filter": "plant9/#", "version": 3, "action": "reject",
         "schema": {"type": "object", "properties": {"rpm": {"type": "number"}}, "required": ["rpm"]}}
BAD_SPEED = '{"rpm": "fast"}'


class Publisher:
    def __init__(self, b):
        self.conn = b.raw_connect("plc-contracts")
        self.pid = 0

    def ack(self, topic, payload):
        self.pid += 1
        self.conn.send(raw.publish(topic, payload, qos=1, pid=self.pid))
        return self.conn.expect(raw.PUBACK)


def contracts(api):
    status, body = api.get("/api/v1/contracts")
    assert status == 200, body
    return [(c["name"], c["version"], c["origin"]) for c in body["data"]]


def test_api_contracts_survive_reload_restart_and_kill(tmp_path):
    b = brokerproc.Broker(tmp_path, {"uns": {"enabled": True, "contract": [FILEONE]}})
    b.start()
    api = AdminClient(b.admin_url)
    p = Publisher(b)
    assert p.ack("plant8/x", "abc").rc == 0x99
    assert p.ack("plant9/press/speed", BAD_SPEED).rc == 0x00

    status, c = api.put("/api/v1/contracts/speed", SPEED)
    assert (status, c["version"], c["origin"]) == (200, "3", "api"), c
    assert p.ack("plant9/press/speed", BAD_SPEED).rc == 0x99
    status, _ = api.delete("/api/v1/contracts/fileone")
    assert status == 204
    assert p.ack("plant8/x", "abc").rc == 0x00
    assert contracts(api) == [("speed", "3", "api")]

    # Reload: the file gains 'extra'; the API's put and removal stay.
    b.config = {"uns": {"enabled": True, "contract": [FILEONE, EXTRA]}}  # also what restarts write
    with open(b.conf_path, "w") as f:
        f.write(brokerproc.to_toml(b.config))
    status, body = api.post("/api/v1/reload")
    assert status == 200 and body["ok"] is True, body
    wait_until(lambda: p.ack("plant7/x", "abc").rc == 0x99, timeout=10, what="the reloaded file in force")
    assert p.ack("plant9/press/speed", BAD_SPEED).rc == 0x99
    assert p.ack("plant8/x", "abc").rc == 0x00
    assert contracts(api) == [("extra", "1", "config"), ("speed", "3", "api")]

    # A graceful restart.
    b.close_clients()
    assert b.stop() == 0
    b.start()
    api = AdminClient(b.admin_url)
    p = Publisher(b)
    assert contracts(api) == [("extra", "1", "config"), ("speed", "3", "api")]
    ack = p.ack("plant9/press/speed", BAD_SPEED)
    assert ack.rc == 0x99
    assert ack.props.get("reason_string").startswith("contract speed v3: ")
    assert p.ack("plant9/press/speed", '{"rpm": 1200}').rc == 0x00
    assert p.ack("plant8/x", "abc").rc == 0x00
    assert p.ack("plant7/x", "abc").rc == 0x99

    # The file's contract put back through the API, kill -9 as soon as the
    # PUT is answered (it answers once the store committed it).
    status, c = api.put("/api/v1/contracts/fileone", {"filter": "plant8/#", "shape": "number", "version": 2})
    assert status == 200, c
    b.kill()
    b.start()
    api = AdminClient(b.admin_url)
    p = Publisher(b)
    assert contracts(api) == [("fileone", "2", "api"), ("extra", "1", "config"), ("speed", "3", "api")]
    assert p.ack("plant8/x", "abc").rc == 0x99
    assert p.ack("plant8/x", "42").rc == 0x00
    assert p.ack("plant9/press/speed", BAD_SPEED).rc == 0x99
    b.close_clients()
    assert b.stop() == 0
    assert b.health_problems() == []
