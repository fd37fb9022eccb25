// strata-kafka-mock: a Kafka cluster for tests and benchmarks, from
// librdkafka's mock cluster (rdkafka_mock.h), which speaks the real Kafka
// protocol on loopback TCP. It starts N brokers (3 by default), prints
//
//   bootstrap 127.0.0.1:41234,127.0.0.1:38111,127.0.0.1:40455
//
// and then reads commands on stdin, one a line, answering "ok" or
// "error <what>" to each:
//
//   topic NAME PARTITIONS [REPLICATION]   create a topic
//   down BROKER | up BROKER               a broker (1..N) refuses / takes connections
//   errors APIKEY ERR [COUNT]             the next COUNT requests (default 1) of
//                                         APIKEY (0: Produce, 3: Metadata) fail with
//                                         Kafka error code ERR (e.g. 6 NOT_LEADER,
//                                         7 REQUEST_TIMED_OUT, 10 MESSAGE_TOO_LARGE)
//   leader TOPIC PARTITION BROKER         move a partition's leader
//   rtt BROKER MS                         add round-trip time to a broker
//   quit                                  (or end of input) stop
//
//   strata-kafka-mock [--brokers N]
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace {

std::string run(rd_kafka_mock_cluster_t* mc, const std::string& line) {
  std::istringstream in(line);
  std::string cmd;
  in >> cmd;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (cmd == "topic") {
    std::string name;
    int partitions = 0, rf = 1;
    in >> name >> partitions;
    if (!(in >> rf)) rf = 1;
    if (name.empty() || partitions <= 0) return "error usage: topic NAME PARTITIONS [REPLICATION]";
    err = rd_kafka_mock_topic_create(mc, name.c_str(), partitions, rf);
  } else if (cmd == "down" || cmd == "up") {
    int id = 0;
    if (!(in >> id)) return "error usage: " + cmd + " BROKER";
    err = cmd == "down" ? rd_kafka_mock_broker_set_down(mc, id) : rd_kafka_mock_broker_set_up(mc, id);
  } else if (cmd == "errors") {
    int api = -1, code = 0;
    long count = 1;
    in >> api >> code;
    if (!(in >> count)) count = 1;
    if (api < 0 || code == 0 || count <= 0) return "error usage: errors APIKEY ERR [COUNT]";
    std::vector<rd_kafka_resp_err_t> errors(static_cast<std::size_t>(count), static_cast<rd_kafka_resp_err_t>(code));
    rd_kafka_mock_push_request_errors_array(mc, static_cast<int16_t>(api), errors.size(), errors.data());
  } else if (cmd == "leader") {
    std::string topic;
    int partition = -1, broker = -1;
    in >> topic >> partition >> broker;
    if (topic.empty() || partition < 0 || broker < 0) return "error usage: leader TOPIC PARTITION BROKER";
    err = rd_kafka_mock_partition_set_leader(mc, topic.c_str(), partition, broker);
  } else if (cmd == "rtt") {
    int id = 0, ms = -1;
    in >> id >> ms;
    if (ms < 0) return "error usage: rtt BROKER MS";
    err = rd_kafka_mock_broker_set_rtt(mc, id, ms);
  } else {
    return "error unknown command '" + cmd + "'";
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return std::string("error ") + rd_kafka_err2str(err);
  return "ok";
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 3;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--brokers" && i + 1 < argc) {
      brokers = std::atoi(argv[++i]);
    } else {
      std::cerr << "usage: strata-kafka-mock [--brokers N]\n";
      return 2;
    }
  }
  if (brokers < 1 || brokers > 16) {
    std::cerr << "strata-kafka-mock: --brokers must be 1..16\n";
    return 2;
  }
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    std::cerr << "strata-kafka-mock: " << errstr << "\n";
    return 1;
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) {
    std::cerr << "strata-kafka-mock: cannot start the mock cluster\n";
    rd_kafka_destroy(rk);
    return 1;
  }
  std::cout << "bootstrap " << rd_kafka_mock_cluster_bootstraps(mc) << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    if (line == "quit") break;
    std::cout << run(mc, line) << std::endl;
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
