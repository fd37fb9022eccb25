// libFuzzer target for the history block decoder (broker/historian/
// block_codec.hpp): blocks come from the store, which a damaged disk or a
// bug may have changed, so decoding must refuse anything malformed without
// reading out of bounds. For every input the decoder accepts, the target
// requires what the store relies on — count and first/last time as the
// header says, times in order and in range — and that encoding the points
// again gives a block that decodes to the same points, bit for bit. The
// header reader must agree with the full decoder. Any broken property traps.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/historian/block_codec.hpp"

namespace {

using namespace strata::historian;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<Point> points;
  std::string why;
  BlockInfo info;
  const bool header = read_block_info(in, info);
  if (!decode_block(in, points, &why)) {
    require(points.empty());
    require(!why.empty());
    return 0;
  }
  require(header);
  require(points.size() == info.count);
  require(points.front().t == info.first && points.back().t == info.last);
  for (std::size_t i = 1; i < points.size(); ++i) require(points[i - 1].t <= points[i].t);
  BlockEncoder enc;
  for (const Point& p : points) require(enc.append(p.t, p.v));
  std::vector<Point> again;
  require(decode_block(enc.bytes(), again));
  require(again == points);
  BlockEncoder resumed;
  require(resumed.resume(in));
  require(resumed.bytes() == enc.bytes());
  return 0;
}
