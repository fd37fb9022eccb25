"""A real headless Chromium for the dashboard tests: Debian's
/usr/bin/chromium driven by playwright-core (tests/node_modules, installed by
tools/setup.sh) through browser.js, one JSON command per line.

    b = Browser(tmp_path)                    # one per module fixture: starting it is the slow part
    b.open(url, width=390, scheme="dark")    # a fresh page (console messages collected from here)
    b.wait_text("[data-testid=connections]", r"^3$")
    b.screenshot(tmp_path / "overview.png")
    assert b.errors() == []
    b.close()
"""

import json
import os
import subprocess
import threading

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PLAYWRIGHT = os.path.join(HERE, "..", "node_modules", "playwright-core", "package.json")


def skip_unless_available():
    if not os.path.exists(CHROMIUM):
        pytest.skip("no Chromium at %s (tools/setup.sh installs Debian's chromium)" % CHROMIUM)
    if not os.path.exists(PLAYWRIGHT):
        pytest.skip("no playwright-core in tests/node_modules (tools/setup.sh installs it)")


class BrowserError(AssertionError):
    pass


class Browser:
    def __init__(self, tmp_path):
        profile = os.path.join(str(tmp_path), "chromium-profile")
        os.makedirs(profile, exist_ok=True)
        self._stderr = open(os.path.join(str(tmp_path), "browser.stderr"), "w+")
        self._proc = subprocess.Popen(["node", os.path.join(HERE, "browser.js"), profile],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                      text=True, bufsize=1)
        self._lock = threading.Lock()

    def _call(self, op, **args):
        args["op"] = op
        with self._lock:
            self._proc.stdin.write(json.dumps(args) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        if not line:
            self._stderr.seek(0)
            raise BrowserError("the browser driver exited: " + self._stderr.read()[-2000:])
        answer = json.loads(line)
        if not answer["ok"]:
            raise BrowserError("%s %s: %s" % (op, args.get("selector", args.get("url", "")), answer["error"]))
        return answer["value"]

    def open(self, url, width=1280, height=800, scheme="light"):
        return self._call("open", url=url, width=width, height=height, scheme=scheme)

    def text(self, selector):
        return self._call("text", selector=selector)

    def wait(self, selector, timeout_ms=10000):
        return self._call("wait", selector=selector, timeout_ms=timeout_ms)

    def wait_text(self, selector, pattern, timeout_ms=10000):
        return self._call("wait_text", selector=selector, pattern=pattern, timeout_ms=timeout_ms)

    def count(self, selector):
        return self._call("count", selector=selector)

    def fill(self, selector, value):
        return self._call("fill", selector=selector, value=value)

    def click(self, selector):
        return self._call("click", selector=selector)

    def press(self, key):
        return self._call("press", key=key)

    def insert_text(self, text):
        """Text into the focused element as one input event, as a paste would."""
        return self._call("insert_text", text=text)

    def eval(self, js):
        return self._call("eval", js=js)

    def download(self, selector, timeout_ms=10000):
        """Clicks `selector` and returns (file name, text) of the download it starts."""
        d = self._call("download", selector=selector, timeout_ms=timeout_ms)
        return d["name"], d["text"]

    def screenshot(self, path):
        return self._call("screenshot", path=str(path))

    def messages(self):
        """Console errors and warnings, page errors and failed requests since open()."""
        return self._call("messages")

    def errors(self, allow=()):
        """messages() less those whose text contains one of `allow`."""
        return [m for m in self.messages() if not any(a in m["text"] for a in allow)]

    def close(self):
        if self._proc.poll() is None:
            try:
                self._proc.stdin.write('{"op":"quit"}\n')
                self._proc.stdin.flush()
                # An open pipe keeps node's event loop alive after the quit.
                self._proc.stdin.close()
                self._proc.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()
        self._stderr.close()
