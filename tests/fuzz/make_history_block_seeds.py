#!/usr/bin/python3
"""Writes the seed corpus of history_block_fuzz into
tests/fuzz/corpus/history_block/: valid blocks in both value modes (see the
layout in broker/historian/block_codec.hpp), using every time and value
bucket, plus a truncated one.

Run from anywhere: /usr/bin/python3 tests/fuzz/make_history_block_seeds.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "history_block")


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def zigzag(v):
    return (v << 1) ^ (v >> 63)


class Bits:
    def __init__(self):
        self.bits = []

    def put(self, value, n):
        for i in range(n - 1, -1, -1):
            self.bits.append((value >> i) & 1)

    def bytes(self):
        b = self.bits + [0] * (-len(self.bits) % 8)
        return bytes(int("".join(map(str, b[i:i + 8])), 2) for i in range(0, len(b), 8))


def put_time(bits, dod):
    if dod == 0:
        bits.put(0, 1)
    elif -32 <= dod <= 31:
        bits.put(0b10, 2)
        bits.put(dod & 0x3F, 6)
    elif -2048 <= dod <= 2047:
        bits.put(0b110, 3)
        bits.put(dod & 0xFFF, 12)
    elif -(1 << 19) <= dod < (1 << 19):
        bits.put(0b1110, 4)
        bits.put(dod & 0xFFFFF, 20)
    else:
        bits.put(0b1111, 4)
        bits.put(dod & (2**64 - 1), 64)


def block(times, values, scale=None):
    """scale=None: xor mode (every changed value with a fresh window)."""
    bits = Bits()
    delta = 0
    for i in range(1, len(times)):
        d = times[i] - times[i - 1]
        put_time(bits, d - delta)
        delta = d
        if scale is None:
            a = struct.unpack(">Q", struct.pack(">d", values[i - 1]))[0]
            b = struct.unpack(">Q", struct.pack(">d", values[i]))[0]
            x = a ^ b
            if x == 0:
                bits.put(0, 1)
                continue
            lz = min(64 - x.bit_length(), 31)
            tz = (x & -x).bit_length() - 1
            length = 64 - lz - tz
            bits.put(0b11, 2)
            bits.put(lz, 5)
            bits.put(length - 1, 6)
            bits.put(x >> tz, length)
        else:
            z = zigzag(values[i] - values[i - 1])
            if z == 0:
                bits.put(0, 1)
            elif z < 1 << 4:
                bits.put(0b10, 2)
                bits.put(z, 4)
            elif z < 1 << 8:
                bits.put(0b110, 3)
                bits.put(z, 8)
            elif z < 1 << 16:
                bits.put(0b1110, 4)
                bits.put(z, 16)
            elif z < 1 << 32:
                bits.put(0b11110, 5)
                bits.put(z, 32)
            else:
                bits.put(0b11111, 5)
                bits.put(z, 64)
    head = bytes([1 | (scale << 4) if scale is not None else 0])
    head += varint(len(times)) + varint(times[0]) + varint(times[-1] - times[0])
    if scale is None:
        head += struct.pack(">d", values[0])
    else:
        head += varint(zigzag(values[0]))
    return head + bits.bytes()


def main():
    os.makedirs(OUT, exist_ok=True)
    t = 1796540400000
    seeds = {
        "one_point": block([t], [2150], scale=2),
        "decimal_1hz": block([t + i * 1000 for i in range(20)], [2150 + (i % 5) - 2 for i in range(20)], scale=2),
        "decimal_jitter": block([t + i * 1000 + (i * 7) % 5 for i in range(20)], [10132 + i for i in range(20)], scale=1),
        "decimal_buckets": block([t + i for i in range(7)], [0, 0, 7, 200, 40000, 3000000000, -(2**50)], scale=0),
        "time_buckets": block([t, t + 1, t + 40, t + 3000, t + 600000, t + 2**40, t + 2**40], [1] * 7, scale=0),
        "xor": block([t + i * 1000 for i in range(10)], [21.5 + i * 0.1 for i in range(10)]),
        "xor_same": block([t, t + 1000, t + 2000], [0.1, 0.1, 0.30000000000000004]),
    }
    seeds["truncated"] = seeds["xor"][:-3]
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
