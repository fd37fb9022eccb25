"""A Kafka cluster for the kafka bridge's tests: librdkafka's mock cluster
run by strata-kafka-mock (tools/kafka_mock), which speaks the real Kafka
protocol on loopback TCP, and an independent consumer (confluent-kafka,
Debian's python3-confluent-kafka) that reads back what arrived.

    with KafkaMock() as k:
        k.cmd("topic plant 4 3")
        ... strata with brokers = k.bootstrap ...
        msgs = k.consume("plant", n=100)
"""

import os
import subprocess
import time

import brokerproc

from confluent_kafka import Consumer, TopicPartition


def mock_bin():
    strata = brokerproc.strata_bin()
    if not strata:
        raise RuntimeError("no strata binary: set STRATA_BIN or build one")
    return os.path.join(os.path.dirname(strata), "strata-kafka-mock")


class KafkaMock:
    def __init__(self, brokers=3):
        self.proc = subprocess.Popen([mock_bin(), "--brokers", str(brokers)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "bootstrap":
            self.close()
            raise RuntimeError("strata-kafka-mock did not start: %r" % (line,))
        self.bootstrap = line[1]

    def cmd(self, line):
        """Sends one command (see tools/kafka_mock/kafka_mock.cpp); fails unless 'ok'."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        assert answer == "ok", "kafka mock: %r -> %r" % (line, answer)

    def consume(self, topic, n, timeout=20.0, partitions=None):
        """Reads every partition of `topic` from the start until n messages
        came (or the deadline), and returns them as dicts: key, value,
        headers (a list of (name, bytes)), partition, offset. Fails with
        what came if fewer than n."""
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "strata-test-%d" % time.monotonic_ns(),
                      "enable.auto.commit": False, "auto.offset.reset": "earliest"})
        try:
            if partitions is None:
                md = c.list_topics(topic, timeout=10)
                partitions = sorted(md.topics[topic].partitions)
            c.assign([TopicPartition(topic, p, 0) for p in partitions])
            out = []
            deadline = time.monotonic() + timeout
            while len(out) < n and time.monotonic() < deadline:
                for m in c.consume(num_messages=1000, timeout=0.2):
                    if m.error():
                        continue
                    out.append({"key": m.key(), "value": m.value(), "headers": m.headers() or [],
                                "partition": m.partition(), "offset": m.offset()})
            assert len(out) >= n, "%d of %d messages arrived on %s: %r" % (len(out), n, topic, out[-5:])
            return out
        finally:
            c.close()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
