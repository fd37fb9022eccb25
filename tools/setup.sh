#!/usr/bin/env bash
# Installs everything Strata needs to build and test on Debian bookworm:
# the toolchain and libraries (apt), the real MQTT peers the integration
# tests talk to (mosquitto, paho), the bridges' peers and consumers (kcat,
# confluent-kafka, influxd, victoria-metrics: the tests start them on free
# ports, never as services), Chromium for the dashboard's browser tests, the
# npm packages of the tests (MQTT.js, playwright-core) into a git-ignored
# folder (tests/node_modules), and the dashboard's libraries (Preact, htm,
# uPlot, CodeMirror 5) into web/node_modules, copied to web/vendor/. Idempotent: when everything is
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
  liburing-dev  # the io_uring backend (STRATA_IO_URING, preset uring)
  kcat python3-confluent-kafka influxdb victoria-metrics
  prometheus  # promtool checks /metrics in the admin tests
  nodejs chromium
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
if [ ! -f tests/node_modules/mqtt/package.json ] || [ ! -f tests/node_modules/playwright-core/package.json ]; then
  echo "setup: installing npm packages into tests/node_modules" >&2
  (cd tests && npm install --no-audit --no-fund --silent)
fi

# The dashboard's libraries: npm into web/node_modules, then the files the
# page loads into web/vendor/ (both git-ignored), served beside the app and
# installed with it; nothing is fetched at run time. hooks imports the bare
# name "preact", which a browser cannot resolve without an import map (an
# inline script the page's CSP forbids), so the copy imports the file.
# CodeMirror 5 (the rules editor) is one plain script plus its Lua mode,
# loaded by the rules page when it opens: CodeMirror 6 is dozens of modules
# importing each other by bare name, which would need that import map too.
if [ ! -f web/node_modules/uplot/package.json ] || [ ! -f web/node_modules/htm/package.json ] ||
  [ ! -f web/node_modules/preact/package.json ] || [ ! -f web/node_modules/codemirror/package.json ]; then
  echo "setup: installing npm packages into web/node_modules" >&2
  (cd web && npm install --no-audit --no-fund --silent)
fi
if [ ! -f web/vendor/uPlot.min.css ] || [ ! -f web/vendor/codemirror.css ] ||
  [ web/package-lock.json -nt web/vendor/uPlot.min.css ]; then
  mkdir -p web/vendor
  cp web/node_modules/preact/dist/preact.module.js web/vendor/preact.module.js
  sed 's|from"preact"|from"./preact.module.js"|g' web/node_modules/preact/hooks/dist/hooks.module.js \
    >web/vendor/hooks.module.js
  cp web/node_modules/htm/dist/htm.module.js web/vendor/htm.module.js
  cp web/node_modules/uplot/dist/uPlot.esm.js web/vendor/uPlot.esm.js
  cp web/node_modules/uplot/dist/uPlot.min.css web/vendor/uPlot.min.css
  cp web/node_modules/codemirror/lib/codemirror.js web/vendor/codemirror.js
  cp web/node_modules/codemirror/lib/codemirror.css web/vendor/codemirror.css
  cp web/node_modules/codemirror/mode/lua/lua.js web/vendor/codemirror-lua.js
fi
