"""Hand-made MQTT over WebSocket (RFC 6455 client side), for tests that need
control over frames: WsRawClient is a raw.RawClient whose bytes travel in
masked binary frames. send() puts each call in one frame; send_frames()
spreads bytes over several frames or messages as the test says. Incoming
frames are unwrapped into the MQTT byte stream that recv() decodes; pings
are answered and remembered (pongs), a close frame ends the stream.
"""

import base64
import os
import socket
import struct
import time

import raw

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class Refused(Exception):
    def __init__(self, status, response):
        super().__init__("upgrade refused: HTTP %d" % status)
        self.status = status
        self.response = response


def frame(opcode, payload, fin=True, mask=None):
    """One client frame (masked, as RFC 6455 5.3 requires; a random mask
    unless given)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = mask or os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def upgrade(sock, host, port, path, protocols, timeout):
    """Sends the HTTP upgrade; returns bytes read past the response."""
    key = base64.b64encode(os.urandom(16)).decode()
    req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n" % (path, host, port, key))
    if protocols:
        req += "Sec-WebSocket-Protocol: %s\r\n" % protocols
    sock.sendall((req + "\r\n").encode())
    data = b""
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in data:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if status != 101:
        raise Refused(status, data)
    return headers, rest


class WsRawClient(raw.RawClient):
    def __init__(self, host, port, path="/mqtt", version=raw.V5, timeout=5.0, protocols="mqtt",
                 ssl_context=None, preamble=b""):
        """`preamble`: bytes sent before TLS and the upgrade (a PROXY header)."""
        self.version = version
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if preamble:
            sock.sendall(preamble)
        if ssl_context is not None:
            sock = ssl_context.wrap_socket(sock, server_hostname=host)
        self.sock = sock
        self.buf = bytearray()
        self.closed = False
        self.received = []
        self.pongs = []
        self.close_frame = None
        self.headers, rest = upgrade(sock, host, port, path, protocols, timeout)
        self._wire = bytearray(rest)

    # -- sending ----------------------------------------------------------
    def send(self, data):
        self.sock.sendall(frame(OP_BINARY, bytes(data)))

    def send_frames(self, data, sizes, fragmented=False):
        """Sends `data` cut into pieces of `sizes` (cycled): each piece its
        own binary message, or with fragmented=True one message of
        continuation frames."""
        data = bytes(data)
        pieces, i, k = [], 0, 0
        while i < len(data):
            n = sizes[k % len(sizes)]
            pieces.append(data[i:i + n])
            i += n
            k += 1
        out = b""
        for j, p in enumerate(pieces):
            if fragmented:
                op = OP_BINARY if j == 0 else OP_CONT
                out += frame(op, p, fin=j == len(pieces) - 1)
            else:
                out += frame(OP_BINARY, p)
        self.sock.sendall(out)

    def send_raw_frame(self, opcode, payload, fin=True):
        self.sock.sendall(frame(opcode, payload, fin))

    # -- receiving --------------------------------------------------------
    def _need(self, n, deadline):
        while len(self._wire) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise raw.Timeout()
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise raw.Timeout()
            except OSError:
                self.closed = True
                raise raw.Closed()
            if not chunk:
                self.closed = True
                raise raw.Closed()
            self._wire += chunk

    def _fill(self, deadline):
        if self.closed:
            raise raw.Closed()
        self._need(2, deadline)
        b0, b1 = self._wire[0], self._wire[1]
        n, at = b1 & 0x7F, 2
        if n == 126:
            self._need(4, deadline)
            n, at = struct.unpack("!H", self._wire[2:4])[0], 4
        elif n == 127:
            self._need(10, deadline)
            n, at = struct.unpack("!Q", self._wire[2:10])[0], 10
        assert not b1 & 0x80, "server frames must not be masked"
        self._need(at + n, deadline)
        payload = bytes(self._wire[at:at + n])
        del self._wire[:at + n]
        op = b0 & 0x0F
        if op in (OP_BINARY, OP_CONT):
            self.buf += payload
        elif op == OP_PING:
            self.sock.sendall(frame(OP_PONG, payload))
        elif op == OP_PONG:
            self.pongs.append(payload)
        elif op == OP_CLOSE:
            self.close_frame = payload
            self.closed = True
            raise raw.Closed()
        else:
            raise AssertionError("unexpected frame opcode %d from the broker" % op)
