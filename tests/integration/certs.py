"""Test certificates, made with the openssl command line (EC P-256).

make_pki(dir) writes and returns the paths of:
  ca.crt/ca.key           the test CA
  other-ca.crt            an unrelated CA (a "wrong CA" for clients)
  server.crt/server.key   127.0.0.1 / localhost, signed by the CA
  expired.crt             the same key, validity 2020-01-01..2020-01-02
  alice.crt/alice.key     client certificate, CN=alice, SAN DNS:device-7
  rogue.crt/rogue.key     client certificate from the other CA, CN=mallory
"""

import os
import subprocess


def _run(*args, cwd):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(args), r.stderr))


def _key(name, cwd):
    _run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name + ".key", cwd=cwd)


def _ca(name, cn, cwd):
    _key(name, cwd)
    _run("req", "-x509", "-new", "-key", name + ".key", "-out", name + ".crt", "-days", "2",
         "-subj", "/CN=" + cn, cwd=cwd)


def _signed(name, ca, cn, san, cwd, key=None):
    key = key or name
    if not os.path.exists(os.path.join(cwd, key + ".key")):
        _key(key, cwd)
    with open(os.path.join(cwd, name + ".ext"), "w") as f:
        f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n" % san)
    _run("req", "-new", "-key", key + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn, cwd=cwd)
    _run("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
         "-CAcreateserial", "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext", cwd=cwd)


def _expired(cwd):
    # `openssl ca` is the CLI way to set explicit validity dates.
    os.makedirs(os.path.join(cwd, "newcerts"), exist_ok=True)
    open(os.path.join(cwd, "index.txt"), "w").close()
    with open(os.path.join(cwd, "serial"), "w") as f:
        f.write("1000\n")
    with open(os.path.join(cwd, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = newcerts\n"
                "serial = serial\ndefault_md = sha256\npolicy = p\ncopy_extensions = copy\n"
                "[p]\ncommonName = supplied\n")
    _run("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key", "-in", "server.csr",
         "-extfile", "server.ext",
         "-out", "expired.crt", "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-notext",
         cwd=cwd)


def make_pki(directory):
    d = str(directory)
    os.makedirs(d, exist_ok=True)
    _ca("ca", "Strata Test CA", d)
    _ca("other-ca", "Other CA", d)
    _signed("server", "ca", "localhost", "IP:127.0.0.1,DNS:localhost", d)
    _expired(d)
    _signed("alice", "ca", "alice", "DNS:device-7", d)
    _signed("rogue", "other-ca", "mallory", "DNS:rogue", d)
    return {name: os.path.join(d, name) for name in (
        "ca.crt", "ca.key", "other-ca.crt", "server.crt", "server.key", "expired.crt",
        "alice.crt", "alice.key", "rogue.crt", "rogue.key")}
