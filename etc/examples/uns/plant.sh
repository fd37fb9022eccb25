#!/bin/sh
# Publishes a small plant into the example namespace (etc/examples/uns):
# two sites, two lines, two cells each, then a few messages that break a
# contract or the model. For each message mosquitto_pub -d prints the
# broker's answer: "received PUBACK (Mid: 1, RC:0)" accepted, "RC:153"
# (0x99) refused by a contract.
#   sh etc/examples/uns/plant.sh [host] [port]
host=${1:-127.0.0.1}
port=${2:-1883}
now=$(date +%s)000
pub() {
  printf '%-46s ' "$1"
  mosquitto_pub -h "$host" -p "$port" -V 5 -q 1 -d -t "$1" -m "$2" | sed -n 's/.*received PUBACK (\(.*\))/\1/p'
}
for site in berlin lyon; do
  for line in line1 line2; do
    for cell in cell1 cell2; do
      base="acme/$site/press/$line/$cell"
      pub "$base/temperature" "{\"timestamp_ms\": $now, \"value\": 61.5, \"unit\": \"C\", \"quality\": \"good\"}"
      pub "$base/state" "{\"timestamp_ms\": $now, \"value\": \"running\"}"
    done
  done
done
echo "--- breaking the contracts and the model:"
pub acme/berlin/press/line1/cell1/temperature "{\"timestamp_ms\": $now, \"value\": 900, \"unit\": \"C\"}"
pub acme/berlin/press/line1/cell1/temperature "{\"timestamp_ms\": $now, \"unit\": \"C\"}"
pub acme/berlin/press/line1/cell2/state "{\"timestamp_ms\": $now, \"value\": \"exploded\"}"
pub acme/Berlin/press/line1/cell1/temperature "{\"timestamp_ms\": $now, \"value\": 20, \"unit\": \"C\"}"
