"""Installing and running Strata outside the build tree: the `cmake --install`
layout and its prefix-relative paths, a plugin built from plugins/README.md
against the installed header alone, the systemd notifications (READY=1 once
the listeners are open, STOPPING=1 on shutdown) read from a socket of the
test's own, the unit file (systemd-analyze verify, when present), and what
can be checked of the Dockerfile and the compose file without a container
engine.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import time

import pytest
import yaml

import brokerproc
import raw
from common import wait_until

pytestmark = pytest.mark.strata_only

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build_dir():
    return os.path.dirname(os.path.dirname(brokerproc.strata_bin()))


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    p = str(tmp_path_factory.mktemp("install") / "prefix")
    r = subprocess.run(["cmake", "--install", build_dir(), "--prefix", p], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return p


def run_installed(args, workdir, env=None):
    log = open(os.path.join(workdir, "installed.log"), "wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir,
                            env=env)
    return proc, log


def read(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def wait_running(proc, log_path):
    wait_until(lambda: proc.poll() is not None or "running on" in read(log_path), timeout=20,
               what="the installed broker to run")
    assert proc.poll() is None, read(log_path)


def stop(proc):
    proc.terminate()
    assert proc.wait(20) == 0


def test_install_layout_with_paths_for_the_prefix(prefix):
    for rel in ("bin/strata", "bin/strata-passwd", "bin/strata-ctl", "etc/strata/strata.toml", "etc/strata/rules",
                "include/strata/plugin.h", "lib/strata/plugins/auth_file.so", "lib/strata/plugins/audit_log.so",
                "lib/strata/plugins/stamp.so", "share/strata/systemd/strata.service",
                "share/strata/plugins/examples/auth_file/auth_file.c"):
        assert os.path.exists(os.path.join(prefix, rel)), rel
    with open(os.path.join(REPO, "plugins", "include", "strata", "plugin.h")) as a, \
            open(os.path.join(prefix, "include", "strata", "plugin.h")) as b:
        assert a.read() == b.read()
    conf = read(os.path.join(prefix, "etc", "strata", "strata.toml"))
    assert 'data_dir = "%s/var/lib/strata"' % prefix in conf
    assert 'dir = "%s/etc/strata/rules"' % prefix in conf
    r = subprocess.run([os.path.join(prefix, "bin", "strata"), "--check-config",
                        os.path.join(prefix, "etc", "strata", "strata.toml")], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr


def test_installed_binary_reads_its_prefix_config_and_plugins(prefix, tmp_path):
    """Without -c the installed strata reads <prefix>/etc/strata/strata.toml;
    a plugin named without a path comes from <prefix>/lib/strata/plugins."""
    port = brokerproc.free_port()
    conf = tmp_path / "with_plugin.toml"
    conf.write_text('[[plugin]]\npath = "stamp"\n[plugin.options]\nnode = "installed"\n')
    strata = os.path.join(prefix, "bin", "strata")
    listen = ["--listen", "tcp://127.0.0.1:%d" % port, "--data-dir", str(tmp_path / "data"), "--admin", "off"]
    proc, log = run_installed([strata] + listen, str(tmp_path))
    try:
        wait_running(proc, log.name)
        assert "rules: " in read(log.name) and "etc/rules" not in read(log.name)
        assert "%s/etc/strata/rules" % prefix in read(log.name), read(log.name)
        c = raw.RawClient("127.0.0.1", port)
        c.connect("installed-1")
        c.disconnect()
    finally:
        stop(proc)
        log.close()
    proc, log = run_installed([strata, "-c", str(conf)] + listen, str(tmp_path))
    try:
        wait_running(proc, log.name)
        assert "%s/lib/strata/plugins/stamp.so: loaded" % prefix in read(log.name)
    finally:
        stop(proc)
        log.close()


def readme_plugin_source():
    text = read(os.path.join(REPO, "plugins", "README.md"))
    blocks = re.findall(r"```c\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "plugins/README.md should have one C example"
    build = re.search(r"^cc .*$", text, re.M).group(0)
    return blocks[0], build


def test_plugin_from_the_readme_builds_against_the_installed_header_and_loads(prefix, tmp_path):
    source, build = readme_plugin_source()
    (tmp_path / "topic_guard.c").write_text(source)
    cc = shutil.which("cc")
    assert cc, "no C compiler"
    # The README's command as written, with $PREFIX set as it tells.
    r = subprocess.run(build, shell=True, cwd=str(tmp_path), capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PREFIX=prefix))
    assert r.returncode == 0 and r.stderr == "", build + "\n" + r.stderr
    b = brokerproc.Broker(tmp_path, {"plugin": [{"path": str(tmp_path / "topic_guard.so"),
                                                 "options": {"prefix": "plant/setpoints/"}}]})
    b.start()
    try:
        assert "topic_guard.so: loaded, ABI version 2 (plugin supports 1, 2, broker 1, 2)" in b.log
        assert "plugin topic_guard.so: guarding" in b.log
        sub = raw.RawClient(b.host, b.port)
        b.clients.append(sub)
        sub.connect("guard-sub")
        sub.subscribe(("plant/#", 1), expect=[1])
        pub = raw.RawClient(b.host, b.port)
        b.clients.append(pub)
        pub.connect("guard-pub")
        assert pub.publish("plant/setpoints/valve", b"1", qos=1).rc == 0x87
        assert pub.publish("plant/line1/temp", b"21.5", qos=1).rc == 0
        p = sub.expect(raw.PUBLISH)
        assert (p.topic, p.payload) == ("plant/line1/temp", b"21.5")
        assert p.props.all("user_property") == [("checked-by", "topic_guard")]
    finally:
        b.close_clients()
        b.stop()
        assert not b.health_problems(), b.health_problems()


@pytest.mark.parametrize("abstract", [False, True])
def test_notify_socket_ready_and_stopping(tmp_path, monkeypatch, abstract):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if abstract:
        name = "strata-test-notify-%d" % os.getpid()
        sock.bind("\0" + name)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
    else:
        path = str(tmp_path / "notify.sock")
        sock.bind(path)
        monkeypatch.setenv("NOTIFY_SOCKET", path)
    sock.settimeout(20)
    b = brokerproc.Broker(tmp_path, {})
    try:
        b.start()
        ready = sock.recv(4096).decode()
        lines = ready.split("\n")
        assert lines[0] == "READY=1" and "MAINPID=%d" % b.proc.pid in lines, ready
        # READY=1 came after the listeners opened: a client connects.
        c = raw.RawClient(b.host, b.port)
        c.connect("notified")
        c.disconnect()
        b.begin_stop()
        assert sock.recv(4096).decode() == "STOPPING=1"
        assert not b.finish_stop()
    finally:
        sock.close()
        if b.running():
            b.kill()


def test_systemd_unit(prefix, tmp_path):
    unit = read(os.path.join(REPO, "etc", "systemd", "strata.service"))
    for line in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "User=strata", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "ReadWritePaths=/var/lib/strata", "PrivateTmp=yes",
                 "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "LimitNOFILE=1048576"):
        assert line in unit.split("\n"), line
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed")
    # The unit names /usr/bin/strata; verify it against the installed binary.
    local = tmp_path / "strata.service"
    local.write_text(unit.replace("/usr/bin/strata", os.path.join(prefix, "bin", "strata")))
    r = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "strata.service" not in r.stderr, r.stderr


# --- Dockerfile and compose (no container engine is needed) -------------------

def dockerfile_stages():
    stages, current = [], None
    text = read(os.path.join(REPO, "Dockerfile"))
    text = re.sub(r"\\\n", " ", text)
    for line in text.split("\n"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word.upper() == "FROM":
            current = {"from": rest, "lines": []}
            stages.append(current)
        else:
            current["lines"].append((word.upper(), rest))
    return stages


def test_dockerfile_copies_files_that_exist():
    stages = dockerfile_stages()
    assert len(stages) == 2
    assert stages[0]["from"].startswith("debian:bookworm AS")
    assert stages[1]["from"] == "debian:bookworm-slim"
    copies = 0
    for stage in stages:
        for word, rest in stage["lines"]:
            if word != "COPY" or rest.startswith("--from"):
                continue
            *sources, _ = rest.split()
            for s in sources:
                copies += 1
                assert os.path.exists(os.path.join(REPO, s)), s
    assert copies >= 4
    run = " ".join(rest for word, rest in stages[0]["lines"] if word == "RUN")
    assert "tools/setup.sh" in run and "--preset release" in run and "cmake --install" in run
    runtime = dict(stages[1]["lines"])
    assert runtime["USER"] == "strata"
    assert runtime["VOLUME"] == '["/etc/strata", "/var/lib/strata"]'
    assert runtime["EXPOSE"].split() == ["1883", "8883", "8080"]
    assert runtime["STOPSIGNAL"] == "SIGTERM"
    assert "HEALTHCHECK" in runtime


def packages_of(paths):
    """The Debian packages owning `paths` (usrmerge: a library ldd finds in
    /lib may be registered under /usr/lib), with one dpkg -S call."""
    candidates = {}
    for p in paths:
        for c in (p, os.path.realpath(p), "/usr" + p, "/usr" + os.path.realpath(p)):
            candidates.setdefault(c, p)
    r = subprocess.run(["dpkg", "-S"] + sorted(candidates), capture_output=True, text=True, timeout=120)
    owner = {}
    for line in r.stdout.splitlines():
        pkg, _, path = line.partition(": ")
        if path in candidates:
            owner[candidates[path]] = pkg.split(":")[0].split(",")[0].strip()
    missing = [p for p in paths if p not in owner]
    assert not missing, "no package owns %s" % missing
    return set(owner.values())


def test_runtime_stage_installs_the_libraries_ldd_needs():
    out = subprocess.run(["ldd", brokerproc.strata_bin()], capture_output=True, text=True, check=True).stdout
    libs = [m.group(1) for m in re.finditer(r"=> (/\S+)", out)]
    # The sanitizer runtimes of an asan build are not the image's business.
    needed = {p for p in packages_of(libs) if not re.match(r"lib(asan|ubsan|tsan|lsan)\d*$", p)}
    runtime = dockerfile_stages()[1]
    run = " ".join(rest for word, rest in runtime["lines"] if word == "RUN")
    listed = set(re.search(r"--no-install-recommends\s+(.*?)\s+&&", run).group(1).split())
    listed.discard("ca-certificates")  # for TLS peers, not a library strata links
    assert listed == needed, "Dockerfile runtime packages %s, ldd needs %s" % (sorted(listed), sorted(needed))


def test_healthcheck_command_against_a_running_broker(tmp_path):
    """The image's HEALTHCHECK is `strata-ctl status` (installed next to
    strata): 0 while the admin API answers, 1 once the broker is gone."""
    runtime = dict(dockerfile_stages()[1]["lines"])
    command = json.loads(runtime["HEALTHCHECK"].split(" CMD ", 1)[1])
    assert command[0] == "strata-ctl" and command[-1] == "status"
    b = brokerproc.Broker(tmp_path, {})
    b.start()
    env = dict(os.environ, STRATA_URL=b.admin_url, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path),
               PATH=os.path.dirname(brokerproc.strata_bin()) + ":/usr/bin:/bin")
    env.pop("STRATA_TOKEN", None)
    env.pop("STRATA_API_KEY", None)
    try:
        r = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("version: ")
    finally:
        b.stop()
    r = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert r.stderr == "strata-ctl: cannot connect to %s: Connection refused\n" % b.admin_url


def test_compose_file_is_valid_and_names_existing_configs():
    chain = os.path.join(REPO, "etc", "examples", "chain")
    with open(os.path.join(chain, "docker-compose.yml")) as f:
        compose = yaml.safe_load(f)
    services = compose["services"]
    assert set(services) == {"edge", "factory", "corporate"}
    for name, service in services.items():
        assert service["image"] == "strata"
        mounts = [v.split(":") for v in service["volumes"]]
        config = [m for m in mounts if m[1] == "/etc/strata/strata.toml"]
        assert len(config) == 1, name
        path = os.path.join(chain, config[0][0])
        assert os.path.isfile(path), path
        r = subprocess.run([brokerproc.strata_bin(), "--check-config", path], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0, r.stderr
        for m in mounts:
            if not m[0].startswith("."):
                assert m[0] in compose["volumes"], m
