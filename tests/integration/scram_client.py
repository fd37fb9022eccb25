"""The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) with Python's
hashlib and hmac, independent of the broker's C++: used by
test_16_enhanced_auth.py and tools/bench_login.py. The messages go into the
Authentication Data of CONNECT and AUTH packets (raw.py).
"""

import base64
import hashlib
import hmac
import os

from extclients import b64


class Scram:
    """The client side of one SCRAM-SHA-256 exchange."""

    def __init__(self, user, password, nonce=None, gs2="n,,"):
        self.user, self.password, self.gs2 = user, password, gs2
        self.nonce = nonce or b64(os.urandom(18))
        self.bare = "n=%s,r=%s" % (user.replace("=", "=3D").replace(",", "=2C"), self.nonce)
        self.server_signature = None

    def client_first(self):
        return (self.gs2 + self.bare).encode()

    def server_first_fields(self, server_first):
        fields = dict(f.split("=", 1) for f in server_first.decode().split(","))
        assert list(fields) == ["r", "s", "i"], server_first
        return fields

    def client_final(self, server_first):
        f = self.server_first_fields(server_first)
        assert f["r"].startswith(self.nonce) and len(f["r"]) > len(self.nonce), server_first
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), base64.b64decode(f["s"]), int(f["i"]))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = "c=%s,r=%s" % (b64(self.gs2.encode()), f["r"])
        auth_message = ("%s,%s,%s" % (self.bare, server_first.decode(), without_proof)).encode()
        signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        self.server_signature = hmac.new(server_key, auth_message, hashlib.sha256).digest()
        return ("%s,p=%s" % (without_proof, b64(proof))).encode()

    def server_final(self):
        return ("v=" + b64(self.server_signature)).encode()
