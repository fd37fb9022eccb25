// One contract applied through the admin API, as a record of the store's
// database "uns_contracts" (contract_overlay.hpp; key: the contract's
// name). Pure, fuzzed (contract_fuzz). JSON:
//   {"seq": N, "body": "{...the PUT body...}"}  a put (the body as a string,
//                                                kept byte for byte)
//   {"seq": N, "removed": true}                a removal
// decode() refuses (nullopt) anything else: not JSON, not an object, no
// unsigned "seq", a body that is not a string holding a JSON object,
// neither body nor removed.
// Whether the body builds a contract is checked where it is applied.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strata::uns {

struct ContractRecord {
  std::uint64_t seq = 0;
  std::optional<std::string> body;  // a JSON object's text; none: removed
};

std::string encode_contract_record(const ContractRecord& r);
std::optional<ContractRecord> decode_contract_record(std::string_view bytes);

}  // namespace strata::uns
