#include "bridges/influx/batch.hpp"

namespace strata::bridges::influx {

std::string_view LineBatch::line(std::size_t i) const noexcept {
  std::size_t begin = i == 0 ? 0 : ends[i - 1];
  std::size_t end = ends[i];
  std::string_view l(body.data() + begin, end - begin);
  if (!l.empty() && l.back() == '\n') l.remove_suffix(1);
  return l;
}

void LineBatch::add(std::string_view line, std::uint64_t offset) {
  body.append(line);
  if (line.empty() || line.back() != '\n') body += '\n';
  ends.push_back(static_cast<std::uint32_t>(body.size()));
  offsets.push_back(offset);
}

LineBatch LineBatch::part(std::size_t begin, std::size_t end) const {
  LineBatch b;
  std::size_t from = begin == 0 ? 0 : ends[begin - 1];
  std::size_t to = end == 0 ? 0 : ends[end - 1];
  b.body.assign(body, from, to - from);
  for (std::size_t i = begin; i < end; ++i) {
    b.ends.push_back(static_cast<std::uint32_t>(ends[i] - from));
    b.offsets.push_back(offsets[i]);
  }
  return b;
}

LineBatch LineBatch::without(std::span<const std::size_t> drop) const {
  LineBatch b;
  std::size_t d = 0;
  for (std::size_t i = 0; i < size(); ++i) {
    if (d < drop.size() && drop[d] == i) {
      ++d;
      continue;
    }
    b.add(line(i), offsets[i]);
  }
  return b;
}

bool Batcher::add(std::string_view line, std::uint64_t offset, Clock::time_point now) {
  if (batch_.empty()) first_ = now;
  batch_.add(line, offset);
  return full();
}

LineBatch Batcher::take() {
  LineBatch out = std::move(batch_);
  batch_ = std::move(spare_);
  batch_.clear();
  spare_ = LineBatch{};
  return out;
}

void Batcher::recycle(LineBatch done) {
  // Keep the one with the most room (a split leaves small halves).
  if (done.body.capacity() <= spare_.body.capacity()) return;
  spare_ = std::move(done);
  spare_.clear();
}

}  // namespace strata::bridges::influx
