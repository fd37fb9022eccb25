#include "broker/util/log.hpp"

#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <mutex>
#include <ostream>

namespace strata::log {
namespace {

std::atomic<int> output_fd{2};

// Serialises writers only in the rare case write(2) returns short, so the
// rest of one line is never preceded by another thread's line.
std::mutex write_mutex;

constexpr std::string_view padded_name(Level l) noexcept {
  switch (l) {
    case Level::trace: return "TRACE";
    case Level::debug: return "DEBUG";
    case Level::info: return "INFO ";
    case Level::warn: return "WARN ";
    case Level::error: return "ERROR";
  }
  return "?????";
}

void append_escaped(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0x0f];
    } else {
      out += c;
    }
  }
}

void write_all(int fd, const std::string& line) noexcept {
  std::lock_guard lock(write_mutex);
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere to report a failing log; drop the line
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

std::optional<Level> parse_level(std::string_view text) {
  for (Level l : {Level::trace, Level::debug, Level::info, Level::warn, Level::error}) {
    if (text == to_string(l)) return l;
  }
  return std::nullopt;
}

std::string_view to_string(Level l) noexcept {
  switch (l) {
    case Level::trace: return "trace";
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& os, Level l) { return os << to_string(l); }

std::string format_line(Level l, std::string_view component, std::string_view message,
                        std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(when.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(ms / 1000);
  auto millis = static_cast<int>(ms % 1000);
  if (millis < 0) {  // before 1970: keep the fraction positive
    millis += 1000;
    secs -= 1;
  }
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char stamp[40];
  std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string line;
  line.reserve(n + 16 + component.size() + message.size());
  line.append(stamp, n);
  line += '.';
  line += static_cast<char>('0' + millis / 100);
  line += static_cast<char>('0' + millis / 10 % 10);
  line += static_cast<char>('0' + millis % 10);
  line += "Z ";
  line += padded_name(l);
  line += ' ';
  line += component;
  line += ": ";
  append_escaped(line, message);
  line += '\n';
  return line;
}

Line::Line(Level l, std::string_view component)
    : level_(l), component_(component), when_(std::chrono::system_clock::now()) {}

Line::~Line() {
  try {
    write_all(output_fd.load(std::memory_order_relaxed),
              format_line(level_, component_, message_.view(), when_));
  } catch (...) {
    // Out of memory while logging: lose the line, never the process.
  }
}

void set_output_fd(int fd) noexcept { output_fd.store(fd, std::memory_order_relaxed); }

}  // namespace strata::log
