#!/usr/bin/env bash
# Installs everything Strata needs to build and test on Debian bookworm:
# the toolchain and libraries (apt), the real MQTT peers the integration
# tests talk to (mosquitto, paho), the bridges' peers and consumers (kcat,
# confluent-kafka, influxd, victoria-metrics: the tests start them on free
# ports, never as services), and the npm packages (MQTT.js) into a
# git-ignored folder (tests/node_modules). Idempotent: when everything is
# there it only checks, in well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(
  build-essential cmake ninja-build pkg-config git ccache
  g++ clang libclang-rt-14-dev llvm
  libboost1.81-dev libssl-dev
  rapidjson-dev liblmdb-dev libluajit-5.1-dev librdkafka-dev json-schema-test-suite
  libtomlplusplus-dev libgtest-dev libgmock-dev libbenchmark-dev
  mosquitto mosquitto-clients python3-paho-mqtt python3-pytest python3-yaml
  openssl haproxy
  kcat python3-confluent-kafka influxdb victoria-metrics
  prometheus  # promtool checks /metrics in the admin tests
  nodejs
)

# One dpkg-query for all of them; unknown packages print nothing on stdout
# and make it exit 1, which must not end the script (set -e, pipefail).
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${apt_packages[@]}" 2>/dev/null |
  awk '$2 == "ii" { print $1 }' || true)
missing=()
for p in "${apt_packages[@]}"; do
  grep -qx "$p" <<<"$installed" || missing+=("$p")
done

# npm ships inside some nodejs builds; ask for Debian's npm only when absent.
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  # Boost 1.81 conflicts with Debian's default 1.74 headers: never mix them.
  if [[ " ${missing[*]} " == *" libboost1.81-dev "* ]] &&
    dpkg-query -W -f='${db:Status-Abbrev}' libboost1.74-dev 2>/dev/null | grep -q '^ii'; then
    echo "setup: removing libboost1.74-dev (conflicts with Boost 1.81)" >&2
    "${sudo_cmd[@]}" apt-get remove -y -q -o DPkg::Lock::Timeout=300 libboost1.74-dev libboost-dev || true
  fi
  echo "setup: installing ${missing[*]}" >&2
  "${sudo_cmd[@]}" apt-get update -q -o DPkg::Lock::Timeout=300
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}"
fi

# npm packages for the integration tests (MQTT.js), kept out of git.
if [ ! -f tests/node_modules/mqtt/package.json ]; then
  echo "setup: installing npm packages into tests/node_modules" >&2
  (cd tests && npm install --no-audit --no-fund --silent)
fi
