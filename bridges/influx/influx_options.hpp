// The keys of a [[bridge]] with type = "influx".
//
//   url = "http://127.0.0.1:8086"   # http:// or https:// (+ a base path)
//   api = "v1"                      # "v1": /write (InfluxDB 1.x, VictoriaMetrics,
//                                   # TDengine taosAdapter, QuestDB); "v2": /api/v2/write
//   database = "plant"              # v1 (required); retention_policy, username, password
//   org = "acme"                    # v2 (required with bucket); token
//   bucket = "plant"
//   precision = "ms"                # "s" | "ms" | "us" | "ns"
//   measurement = "{-1}"            # topic template (topic_template.hpp)
//   tags = { site = "{2}" }         # tag name -> topic template
//   topic_levels = ["enterprise", "site", "area", "line"]   # named levels become tags
//   fields = ["temp", "status.code"]   # keep only these paths (default: all)
//   int_fields = ["count"]          # written as integers
//   value_field = "value"           # the field of a plain-number payload
//   timestamp_field = "ts"          # the time from the payload (default: receive time)
//   timestamp_unit = "ms"           # "s" | "ms" | "us" | "ns" | "rfc3339"
//   batch_lines = 5000              # a write holds at most this many lines,
//   batch_bytes = 1048576           # ... this many bytes,
//   batch_ms = 200                  # ... and waits at most this long for more
//   timeout = 10000                 # ms for each connect, write and answer
//   retry_min = 200                 # ms: backoff after a failed write, doubling
//   retry_max = 30000               # ... up to this (also the pause probe)
//   ca_file = "/etc/ssl/tsdb-ca.pem"   # https: trust these CAs (default: the system's)
//   window = 20000                  # records taken from the outbox and not yet written
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "bridges/influx/batch.hpp"
#include "bridges/influx/point_mapper.hpp"
#include "bridges/influx/write_endpoint.hpp"
#include "broker/config/table_reader.hpp"

namespace strata::bridges::influx {

struct InfluxOptions {
  std::string url_text;
  HttpUrl url;
  WriteTarget target;
  MapperOptions mapper;
  BatchLimits batch;
  std::chrono::milliseconds timeout{10000};
  std::chrono::milliseconds retry_min{200};
  std::chrono::milliseconds retry_max{30000};
  std::string ca_file;
  std::size_t window = 20000;
};

const std::vector<std::string_view>& influx_keys();

// Reads them (throws config::ConfigError with file:line).
InfluxOptions read_influx_options(const config::TableReader& r, const Namespaces& namespaces = {});

}  // namespace strata::bridges::influx
