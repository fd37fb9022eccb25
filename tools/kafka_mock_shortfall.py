#!/usr/bin/python3
"""librdkafka's idempotent producer alone, without Strata, against
strata-kafka-mock, under the outage of test_29_kafka's
test_broker_down_and_request_errors_under_load_lose_nothing: does the mock
cluster end up holding fewer messages than the producer was told were
delivered?

It produces 2,400 messages (8 keys, 4 partitions, acks=all, idempotence,
message.timeout.ms=0, linger.ms=2, as Strata's kafka bridge does), paced a
little, and at the 600th, 1,200th and 2,000th message takes broker 2 down,
injects Produce errors (NOT_LEADER_OR_FOLLOWER and REQUEST_TIMED_OUT, five
requests each) and brings broker 2 up, as chosen by --outage. Then it
compares the successful delivery reports with the sum of the partitions'
high watermarks, run by run.

  STRATA_BIN=build/release/bin/strata tools/kafka_mock_shortfall.py [--runs 20]
      [--pace SECONDS] [--outage down,errors6,errors7]

docs/benchmarks.md ("The Kafka mock cluster's shortfall, without Strata")
has what it showed.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from kafkapeer import KafkaMock  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

PRODUCE = 0  # Kafka's ApiKey of Produce


def run(pace, outage):
    k = KafkaMock()
    try:
        k.cmd("topic load 4 3")
        p = Producer({"bootstrap.servers": k.bootstrap, "acks": "all", "enable.idempotence": True,
                      "message.timeout.ms": 0, "linger.ms": 2, "log_level": 0})
        reports = {"ok": 0, "failed": 0}

        def on_delivery(err, _msg):
            reports["failed" if err else "ok"] += 1

        i = 0
        for seq in range(300):
            for key in range(8):
                p.produce("load", key=b"load/k%d" % key, value=b"load/k%d#%d" % (key, seq), on_delivery=on_delivery)
                i += 1
                if i == 600 and "down" in outage:
                    k.cmd("down 2")
                elif i == 1200:
                    if "errors6" in outage:
                        k.cmd("errors %d 6 5" % PRODUCE)
                    if "errors7" in outage:
                        k.cmd("errors %d 7 5" % PRODUCE)
                elif i == 2000 and "down" in outage:
                    k.cmd("up 2")
                p.poll(0)
                if pace:
                    time.sleep(pace)
            if seq % 50 == 0:
                time.sleep(0.005)
        unflushed = p.flush(60)
        c = Consumer({"bootstrap.servers": k.bootstrap, "group.id": "shortfall-%d" % time.monotonic_ns()})
        try:
            held = sum(c.get_watermark_offsets(TopicPartition("load", q), timeout=10)[1] for q in range(4))
        finally:
            c.close()
        return reports["ok"], reports["failed"], unflushed, held
    finally:
        k.cmd("up 2")
        k.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--pace", type=float, default=0.0002, help="seconds between two produce calls")
    ap.add_argument("--outage", default="down,errors6,errors7")
    args = ap.parse_args()
    outage = set(args.outage.split(","))
    short = 0
    for r in range(args.runs):
        ok, failed, unflushed, held = run(args.pace, outage)
        short += held < ok
        print("run %d: delivered %d, failed %d, unflushed %d, the mock holds %d%s" %
              (r + 1, ok, failed, unflushed, held, "  SHORT by %d" % (ok - held) if held < ok else ""), flush=True)
    print("outage %s, pace %g s: %d of %d runs short" % (args.outage, args.pace, short, args.runs))


if __name__ == "__main__":
    main()
