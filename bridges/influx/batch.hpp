// A batch of line-protocol lines on its way to one HTTP write, and the
// Batcher that fills it by lines, bytes and time.
//
// A batch remembers the outbox offset of every line, so that a line the
// server rejects can go to the dead-letter store as the message it came
// from, and the range of offsets it covers (messages that mapped to no line
// are in the range too: acknowledging the batch acknowledges them).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace strata::bridges::influx {

struct LineBatch {
  std::string body;                  // the lines, each ending in '\n'
  std::vector<std::uint32_t> ends;   // ends[i]: end of line i in body (after its '\n')
  std::vector<std::uint64_t> offsets;  // offsets[i]: outbox offset of line i

  std::size_t size() const noexcept { return ends.size(); }
  bool empty() const noexcept { return ends.empty(); }
  // Line i without its '\n'.
  std::string_view line(std::size_t i) const noexcept;
  // Appends one line (given without or with its '\n').
  void add(std::string_view line, std::uint64_t offset);
  // Lines [begin, end) as a batch of their own.
  LineBatch part(std::size_t begin, std::size_t end) const;
  // The batch without the lines whose indexes are in `drop` (sorted).
  LineBatch without(std::span<const std::size_t> drop) const;
  // Empties it, keeping the memory.
  void clear() noexcept {
    body.clear();
    ends.clear();
    offsets.clear();
  }
};

struct BatchLimits {
  std::size_t lines = 5000;
  std::size_t bytes = 1 << 20;
  std::chrono::milliseconds max_wait{200};
};

class Batcher {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Batcher(BatchLimits limits) : limits_(limits) {}

  // True when `line_bytes` more would take a non-empty batch past its byte
  // limit: take() it first.
  bool would_overflow(std::size_t line_bytes) const noexcept {
    return !batch_.empty() && batch_.body.size() + line_bytes > limits_.bytes;
  }
  // Adds a line; returns true when the batch is full (take it now).
  bool add(std::string_view line, std::uint64_t offset, Clock::time_point now);
  // When a batch that is not full is due: max_wait after its first line.
  Clock::time_point deadline() const noexcept { return first_ + limits_.max_wait; }
  bool due(Clock::time_point now) const noexcept { return !batch_.empty() && now >= deadline(); }
  bool full() const noexcept {
    return batch_.size() >= limits_.lines || batch_.body.size() >= limits_.bytes;
  }
  bool empty() const noexcept { return batch_.empty(); }
  LineBatch take();
  // Gives back a batch that was written: the next batch fills its memory
  // instead of growing new buffers (a full batch is ~batch_bytes).
  void recycle(LineBatch done);

  const BatchLimits& limits() const noexcept { return limits_; }

 private:
  BatchLimits limits_;
  LineBatch batch_;
  LineBatch spare_;  // a written batch's memory, for the next one
  Clock::time_point first_{};
};

}  // namespace strata::bridges::influx
