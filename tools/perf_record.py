"""`perf record` on one process for the length of a benchmark run: what the
bench tools' --perf DIR keeps (tools/bench_forward.py, tools/bench_bridges.py).
Read the files with `perf report -i DIR/NAME.data`."""

import os
import signal
import subprocess
import time


class PerfRecord:
    """Records `pid` into OUT_DIR/NAME.data until stop(); nothing when
    out_dir is empty. `options`: how perf samples (event, call graphs)."""

    def __init__(self, out_dir, pid, name, options):
        self.proc = None
        if out_dir:
            os.makedirs(out_dir, exist_ok=True)
            self.proc = subprocess.Popen(["perf", "record"] + list(options) + ["-q", "-p", str(pid), "-o",
                                                                              os.path.join(out_dir, name + ".data")],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)  # attached before the load starts

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(60)
