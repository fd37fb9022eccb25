#!/usr/bin/python3
"""Writes the seed corpus of transport_fuzz into tests/fuzz/corpus/transport/:
a WebSocket upgrade and frames of every kind a client sends, behind each
kind of PROXY header. The first byte of a seed is the listener's
proxy_protocol (0 none, 1 v1, 2 v2, 3 any); the rest is the client's bytes.

Run from anywhere: /usr/bin/python3 tests/fuzz/make_transport_seeds.py
"""
import os
import socket
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import ws_raw  # noqa: E402  (the tests' WebSocket client frames)

OUT = os.path.join(HERE, "corpus", "transport")

NONE, V1, V2, ANY = 0, 1, 2, 3

UPGRADE = (b"GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n")
CONNECT = bytes([0x10, 0x10, 0x00, 0x04]) + b"MQTT" + bytes([0x05, 0x02, 0x00, 0x3C, 0x00, 0x00, 0x03]) + b"abc"
PINGREQ = bytes([0xC0, 0x00])


def frame(opcode, payload, fin=True):
    """A client frame with a fixed mask, so the seeds are reproducible."""
    return ws_raw.frame(opcode, payload, fin, mask=b"\x01\x02\x03\x04")


SIG = b"\r\n\r\n\x00\r\nQUIT\n"
HEADERS = {
    "v1_tcp4": (V1, b"PROXY TCP4 192.0.2.1 198.51.100.7 56324 8080\r\n"),
    "v1_tcp6": (ANY, b"PROXY TCP6 2001:db8::1 2001:db8::2 56324 8080\r\n"),
    "v1_unknown": (ANY, b"PROXY UNKNOWN\r\n"),
    "v2_tcp4": (V2, SIG + b"\x21\x11\x00\x0c" + socket.inet_aton("192.0.2.1") + socket.inet_aton("198.51.100.7")
                + struct.pack("!HH", 56324, 8080)),
    "v2_tcp6_tlv": (ANY, SIG + b"\x21\x21\x00\x2a" + socket.inet_pton(socket.AF_INET6, "2001:db8::1")
                    + socket.inet_pton(socket.AF_INET6, "2001:db8::2") + struct.pack("!HH", 1, 2)
                    + b"\x04\x00\x03abc"),
    "v2_unix": (V2, SIG + b"\x21\x31\x00\xd8" + b"/run/lb.sock".ljust(108, b"\x00") + bytes(108)),
    "v2_local": (V2, SIG + b"\x20\x00\x00\x00"),
}

SESSIONS = {
    "connect": UPGRADE + frame(0x2, CONNECT),
    "split_and_joined": UPGRADE + frame(0x2, CONNECT[:5]) + frame(0x2, CONNECT[5:] + PINGREQ + PINGREQ),
    "fragmented": UPGRADE + frame(0x2, CONNECT[:3], fin=False) + frame(0x0, CONNECT[3:9], fin=False)
                  + frame(0x0, CONNECT[9:]),
    "ping_pong_close": UPGRADE + frame(0x9, b"hb") + frame(0xA, b"") + frame(0x8, b"\x03\xe8bye"),
    "text": UPGRADE + frame(0x1, b"hello"),
    "long_16bit": UPGRADE + frame(0x2, bytes(300)),
    "wrong_path": UPGRADE.replace(b"/mqtt", b"/other"),
    "wrong_protocol": UPGRADE.replace(b"mqtt\r\n", b"chat\r\n"),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SESSIONS.items():
        with open(os.path.join(OUT, "ws_" + name + ".bin"), "wb") as f:
            f.write(bytes([NONE]) + data)
    for name, (mode, header) in HEADERS.items():
        with open(os.path.join(OUT, name + ".bin"), "wb") as f:
            f.write(bytes([mode]) + header + SESSIONS["connect"])


if __name__ == "__main__":
    main()
