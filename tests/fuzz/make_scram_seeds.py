#!/usr/bin/python3
"""Writes the seed corpus of scram_fuzz into tests/fuzz/corpus/scram/: SCRAM
exchanges (client-first, '\\n', client-final) against the fuzz target's
user ("user"/"pencil", RFC 7677's salt, its fixed server nonce) that
succeed, fail on the proof, or stop early, plus a base64 seed.

Run from anywhere: /usr/bin/python3 tests/fuzz/make_scram_seeds.py
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from scram_client import Scram  # noqa: E402  (the tests' SCRAM client)

OUT = os.path.join(HERE, "corpus", "scram")
SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"  # scram_fuzz.cpp
SALT = "W22ZaJ0SNY7soEsUEjb6gQ=="


def exchange(user, password, nonce, gs2="n,,"):
    scram = Scram(user, password, nonce=nonce, gs2=gs2)
    server_first = ("r=%s%s,s=%s,i=4096" % (nonce, SERVER_NONCE, SALT)).encode()
    return scram.client_first() + b"\n" + scram.client_final(server_first)


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = {
        # RFC 7677 section 3, as printed.
        "rfc7677_exchange": b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO\nc=biws,r=rOprNGfwEbeRWgbNEkqO" +
                            SERVER_NONCE.encode() + b",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "success": exchange("user", "pencil", "fyko+d2lbbFgONRv9qkxdawL"),
        "authzid_y_flag": exchange("user", "pencil", "abc", gs2="y,a=user,"),
        "wrong_password": exchange("user", "pencil2", "abc"),
        "unknown_user": exchange("mallory", "pencil", "xyz"),
        "no_credentials": exchange("nosecret", "pencil", "xyz"),
        "escaped_name_first_only": b"n,,n=a=2Cb=3D,r=q",
        "base64_salt": SALT.encode(),
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
