// What to do with the answer to one line-protocol write: the one place
// where HTTP answers are classified (as Telegraf's InfluxDB outputs do).
//
//   2xx                     ack: the batch is written
//   413                     split: send each half on its own (a single line
//                           that is still too large is rejected)
//   400, 422                reject the lines the error names and ack the rest
//                           (InfluxDB has written them: a partial write); the
//                           lines are found by the body's "unable to parse
//                           '<line>'" and "input field \"F\" on measurement
//                           \"M\" is type T" parts; when the body does not say
//                           which lines, or names fewer than its "dropped=N",
//                           bisect: send each half on its own (re-writing a
//                           point InfluxDB already has is harmless: same
//                           series and time, same point). A single line that
//                           is refused is rejected.
//   401, 403, 404           pause: credentials, permissions or the database
//                           are wrong; keep the data and raise an alarm
//   429, 5xx, other, none   retry the same batch after a backoff (a
//                           Retry-After of N seconds is honoured)
//
// "none" (status 0) is a transport error: refused, reset, timed out.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bridges/influx/batch.hpp"

namespace strata::bridges::influx {

struct WriteAnswer {
  int status = 0;            // 0: no answer (transport error)
  std::string body;
  std::string retry_after;   // the Retry-After header, if any
};

enum class WriteAction : std::uint8_t { ack, split, reject, bisect, pause, retry };
std::string_view to_string(WriteAction a) noexcept;

struct WriteVerdict {
  WriteAction action = WriteAction::retry;
  std::vector<std::size_t> rejected;  // reject: indexes of the refused lines (sorted)
  std::string reason;                 // for the log, the alarm and the dead letters
  std::optional<std::chrono::milliseconds> retry_after;  // retry: the server's wish
};

WriteVerdict classify(const WriteAnswer& answer, const LineBatch& batch);

// The error text of an answer body: the "error" (InfluxDB 1.x) or "message"
// (2.x) string of a JSON body, else the body itself, shortened to 300 bytes.
std::string error_text(std::string_view body);

// The parts of one of our own lines that the error bodies name: the
// measurement and each field's key and type ("float", "integer", "string",
// "boolean"), unescaped.
struct LineShape {
  std::string measurement;
  std::vector<std::pair<std::string, std::string_view>> fields;  // key, type
};
LineShape line_shape(std::string_view line);

// Retry-After as a delay: "120" -> 120 s; an HTTP date or junk -> nullopt.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value);

// Exponential backoff with jitter: min, doubling, capped at max.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max) : min_(min), max_(max) {}
  // The next delay; `jitter` in [0, 1) takes up to a quarter off it.
  std::chrono::milliseconds next(double jitter);
  void reset() noexcept { current_ = {}; }

 private:
  std::chrono::milliseconds min_, max_, current_{0};
};

}  // namespace strata::bridges::influx
