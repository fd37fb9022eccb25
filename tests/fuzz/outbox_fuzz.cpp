// libFuzzer target for the outbox's record layout (bridges/outbox/
// outbox_log.hpp): records, dead letters and the acknowledged offset come
// back from the store at start-up and when an operator lists or re-sends
// dead letters, so a damaged value must be refused without reading out of
// bounds. For every value a decoder accepts, encoding what it read and
// decoding that again must give the same fields and the same bytes (the
// layout has one spelling per record); the meta record must be exactly its
// encoding; a record key must split into the offset it was built from.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bridges/outbox/outbox_log.hpp"

namespace {

using namespace strata::bridges;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

bool same(const Record& a, const Record& b) {
  return a.topic == b.topic && a.payload == b.payload && a.qos == b.qos && a.retain == b.retain &&
         a.expires_at_ms == b.expires_at_ms && a.received_ms == b.received_ms && a.hops == b.hops &&
         a.origin == b.origin && a.route == b.route;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  Record r;
  if (outbox_log::decode_record(in, r)) {
    const std::string once = outbox_log::encode_record(r);
    Record again;
    require(outbox_log::decode_record(once, again));
    require(same(r, again));
    require(outbox_log::encode_record(again) == once);
  }

  Record d;
  std::string reason;
  std::uint64_t at = 0;
  if (outbox_log::decode_dead(in, d, reason, at)) {
    const std::string once = outbox_log::encode_dead(d, reason, at);
    Record again;
    std::string reason2;
    std::uint64_t at2 = 0;
    require(outbox_log::decode_dead(once, again, reason2, at2));
    require(same(d, again) && reason2 == reason && at2 == at);
  }

  std::uint64_t acked = 0;
  if (outbox_log::decode_meta(in, acked)) require(outbox_log::encode_meta(acked) == in);

  std::uint64_t offset = 0;
  if (outbox_log::offset_of(in, "factory", offset)) require(outbox_log::record_key("factory", offset) == in);
  return 0;
}
