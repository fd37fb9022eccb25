// Strata's log: one line per event on stderr.
//
//   2026-11-22T11:20:05.123Z INFO  core: listening on tcp://0.0.0.0:1883
//
// A line is UTC time with milliseconds, the level padded to five columns,
// the component and the message. It is assembled in memory and written with
// a single write(2) when the Line is destroyed, so lines from different
// threads never interleave. Control characters in the message (a newline in
// a client id, say) are escaped as \xNN, so one event is always one line.
//
// Use the macros: the stream expression is not evaluated when the level is
// off, so a disabled debug line costs one relaxed atomic load.
//
//   STRATA_INFO("core") << "listening on " << listener.name();
//
// Threading: every function here may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace strata::log {

enum class Level : std::uint8_t { trace, debug, info, warn, error };

namespace detail {
inline std::atomic<std::uint8_t> current_level{static_cast<std::uint8_t>(Level::info)};
}  // namespace detail

// The lowest level that is written; info by default.
inline void set_level(Level l) noexcept {
  detail::current_level.store(static_cast<std::uint8_t>(l), std::memory_order_relaxed);
}
inline Level level() noexcept {
  return static_cast<Level>(detail::current_level.load(std::memory_order_relaxed));
}
inline bool enabled(Level l) noexcept {
  return static_cast<std::uint8_t>(l) >= detail::current_level.load(std::memory_order_relaxed);
}

// "trace", "debug", "info", "warn", "error" (exactly, lower case).
std::optional<Level> parse_level(std::string_view text);

// The lower-case name parse_level() accepts.
std::string_view to_string(Level l) noexcept;
std::ostream& operator<<(std::ostream& os, Level l);

// The whole line, newline included, as Line writes it. Exposed for tests.
std::string format_line(Level l, std::string_view component, std::string_view message,
                        std::chrono::system_clock::time_point when);

// One log line. The time is taken when the Line is constructed; the line is
// written when it is destroyed.
class Line {
 public:
  Line(Level l, std::string_view component);
  ~Line();
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;

  std::ostream& stream() { return message_; }

 private:
  Level level_;
  std::string_view component_;
  std::chrono::system_clock::time_point when_;
  std::ostringstream message_;
};

// Where lines go: stderr (2) unless changed. For tests.
void set_output_fd(int fd) noexcept;

}  // namespace strata::log

#define STRATA_LOG(level, component) \
  if (!::strata::log::enabled(level)) {  \
  } else                                 \
    ::strata::log::Line(level, component).stream()

#define STRATA_TRACE(component) STRATA_LOG(::strata::log::Level::trace, component)
#define STRATA_DEBUG(component) STRATA_LOG(::strata::log::Level::debug, component)
#define STRATA_INFO(component) STRATA_LOG(::strata::log::Level::info, component)
#define STRATA_WARN(component) STRATA_LOG(::strata::log::Level::warn, component)
#define STRATA_ERROR(component) STRATA_LOG(::strata::log::Level::error, component)
