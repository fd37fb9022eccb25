#!/usr/bin/env bash
# Sets Strata up (dependencies, configure, release build) and starts the
# broker on etc/strata.toml: MQTT on port 1883, data under ./data.
# Extra arguments go to the broker, e.g. tools/run.sh --log-level debug
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release
exec build/release/bin/strata -c etc/strata.toml "$@"
