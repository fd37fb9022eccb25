#!/usr/bin/python3
"""Writes the seed corpus of codec_fuzz: valid MQTT 5.0 and 3.1.1 packets of
every type, one per file, into tests/fuzz/corpus/codec/.

Run from anywhere: /usr/bin/python3 tests/fuzz/make_codec_seeds.py
The bytes are spelled out so a reader can check them against the spec.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "codec")


def s(text):
    """A length-prefixed MQTT string."""
    b = text.encode() if isinstance(text, str) else text
    return bytes([len(b) >> 8, len(b) & 0xFF]) + b


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def packet(first, body):
    """Fixed header (first byte, remaining length) + body."""
    return bytes([first]) + varint(len(body)) + body


def props(*items):
    body = b"".join(items)
    return varint(len(body)) + body


SEEDS = {
    # CONNECT 5.0: clean start, will QoS 1, user name, password, properties.
    "v5_connect": packet(0x10, s("MQTT") + bytes([5, 0xCE]) + b"\x00\x3c"
                         + props(b"\x11\x00\x00\x0e\x10", b"\x21\x00\x14",
                                 b"\x26" + s("k") + s("v"))
                         + s("client-1")
                         + props(b"\x18\x00\x00\x00\x05") + s("will/t") + s("bye")
                         + s("user") + s("pass")),
    # CONNECT 3.1.1: clean session, keep alive 30.
    "v311_connect": packet(0x10, s("MQTT") + bytes([4, 0x02]) + b"\x00\x1e" + s("dev-42")),
    # CONNACK 5.0 with server properties.
    "v5_connack": packet(0x20, b"\x00\x00" + props(b"\x24\x01", b"\x25\x00",
                                                   b"\x12" + s("auto-1"),
                                                   b"\x27\x00\x10\x00\x00")),
    # PUBLISH 5.0 QoS 1 with properties and a JSON payload.
    "v5_publish_qos1": packet(0x32, s("plant/line1/temp") + b"\x00\x01"
                              + props(b"\x01\x01", b"\x03" + s("application/json"),
                                      b"\x0b\x05", b"\x23\x00\x02")
                              + b'{"v":21.5}'),
    # PUBLISH 3.1.1 QoS 2, DUP, RETAIN.
    "v311_publish_qos2": packet(0x3D, s("a/b") + b"\x12\x34" + b"hello"),
    # PUBACK 5.0 with reason and reason string; PUBREC short form.
    "v5_puback": packet(0x40, b"\x00\x07\x10" + props(b"\x1f" + s("none"))),
    "v5_pubrec": packet(0x50, b"\x00\x07"),
    # PUBREL (flags 0b0010) and PUBCOMP 3.1.1.
    "v311_pubrel": packet(0x62, b"\x00\x07"),
    "v311_pubcomp": packet(0x70, b"\x00\x07"),
    # SUBSCRIBE 5.0: subscription identifier, two filters with options.
    "v5_subscribe": packet(0x82, b"\x00\x01" + props(b"\x0b\x07")
                           + s("a/#") + b"\x2d" + s("$share/g/b/+") + b"\x01"),
    # SUBACK 5.0 and 3.1.1.
    "v5_suback": packet(0x90, b"\x00\x01" + props() + b"\x01\x87"),
    "v311_suback": packet(0x90, b"\x00\x01\x00\x80"),
    # UNSUBSCRIBE 3.1.1 and UNSUBACK 5.0.
    "v311_unsubscribe": packet(0xA2, b"\x00\x02" + s("a/#") + s("b")),
    "v5_unsuback": packet(0xB0, b"\x00\x02" + props() + b"\x00\x11"),
    # PINGREQ followed by PINGRESP: a stream of two packets.
    "ping_pair": packet(0xC0, b"") + packet(0xD0, b""),
    # DISCONNECT 5.0 with session expiry; AUTH 5.0 continue authentication.
    "v5_disconnect": packet(0xE0, b"\x04" + props(b"\x11\x00\x00\x00\x00")),
    "v5_auth": packet(0xF0, b"\x18" + props(b"\x15" + s("SCRAM-SHA-1"), b"\x16" + s(b"\x01\x02"))),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(OUT, name + ".bin"), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
