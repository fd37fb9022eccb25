"""Unified namespace (Strata): the example of the README's "Unified
namespace" section works as written. The broker runs etc/examples/uns/
strata.toml (its contracts beside it; only the listener, the admin port
and the data directory are the test's) and etc/examples/uns/plant.sh
publishes the small plant with mosquitto_pub: every well-formed message
is acknowledged with 0x00, the contract and model breakers with 0x99
(153) or, for the redirecting contract, 0x00; the catalog then holds the
plant's 16 topics under acme/ and the quarantined one."""

import os
import shutil
import subprocess
import tomllib

import pytest

import brokerproc
from adminhttp import AdminClient

pytestmark = pytest.mark.strata_only

EXAMPLE = os.path.join(brokerproc.REPO, "etc", "examples", "uns")


def test_the_example_plant(tmp_path):
    shutil.copytree(os.path.join(EXAMPLE, "contracts"), tmp_path / "contracts")
    with open(os.path.join(EXAMPLE, "strata.toml"), "rb") as f:
        config = tomllib.load(f)
    config.pop("listener", None)
    config.get("broker", {}).pop("data_dir", None)
    b = brokerproc.Broker(tmp_path, config)
    b.start()
    out = subprocess.run(["sh", os.path.join(EXAMPLE, "plant.sh"), b.host, str(b.port)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out
    plant = ["acme/%s/press/%s/%s/%s" % (site, line, cell, tag) for site in ("berlin", "lyon")
             for line in ("line1", "line2") for cell in ("cell1", "cell2") for tag in ("temperature", "state")]
    assert [line.split() for line in out.stdout.splitlines()] == [
        [t, "Mid:", "1,", "RC:0"] for t in plant] + [
        ["---", "breaking", "the", "contracts", "and", "the", "model:"],
        ["acme/berlin/press/line1/cell1/temperature", "Mid:", "1,", "RC:153"],  # out of range
        ["acme/berlin/press/line1/cell1/temperature", "Mid:", "1,", "RC:153"],  # missing value
        ["acme/berlin/press/line1/cell2/state", "Mid:", "1,", "RC:0"],  # redirected to the quarantine
        ["acme/Berlin/press/line1/cell1/temperature", "Mid:", "1,", "RC:153"]]  # the model: site in lower case
    assert out.stderr.splitlines() == [
        "Warning: Publish 1 failed: Payload format invalid.",
        "contract temperature v1: out_of_range at /value (maximum)",
        "Warning: Publish 1 failed: Payload format invalid.",
        "contract temperature v1: missing_field at /value (required)",
        "Warning: Publish 1 failed: Payload format invalid.",
        "namespace:acme: model (level site 'Berlin' does not match ^[a-z]+$)"]
    api = AdminClient(b.admin_url)
    status, body = api.get("/api/v1/topics?match=acme/%23&status=ok&limit=100")
    assert status == 200, body
    assert sorted(t["topic"] for t in body["data"]) == sorted(set(plant) - {"acme/berlin/press/line1/cell1/temperature",
                                                                         "acme/berlin/press/line1/cell2/state"})
    status, body = api.get("/api/v1/topics?match=acme/%23&status=violating&limit=100")
    assert status == 200, body
    assert sorted(t["topic"] for t in body["data"]) == ["acme/Berlin/press/line1/cell1/temperature",
                                                        "acme/berlin/press/line1/cell1/temperature",
                                                        "acme/berlin/press/line1/cell2/state"]
    b.close_clients()
    assert b.stop() == 0
    assert b.health_problems() == []
