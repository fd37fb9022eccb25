#!/bin/bash
# The container's HEALTHCHECK: `strata-ctl status` (the admin API) when the
# image has it, else an MQTT CONNECT/CONNACK round trip on port 1883.
if command -v strata-ctl >/dev/null 2>&1; then
  exec strata-ctl status
fi
exec 3<>/dev/tcp/127.0.0.1/"${STRATA_HEALTH_PORT:-1883}" || exit 1
# CONNECT, MQTT 3.1.1, clean session, keep alive 10 s, client id "health".
printf '\x10\x12\x00\x04MQTT\x04\x02\x00\x0a\x00\x06health' >&3
# CONNACK with return code 0: 20 02 00 00.
reply=$(timeout 3 head -c 4 <&3 | od -An -tx1 | tr -d ' \n')
printf '\xe0\x00' >&3  # DISCONNECT
[ "$reply" = "20020000" ]
