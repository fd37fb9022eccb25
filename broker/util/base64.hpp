// Base64 (RFC 4648, section 4: the standard alphabet with '=' padding), as
// used by the password file and by SCRAM messages (RFC 5802).
//
// Decoding is strict: only the alphabet, a length that is a multiple of 4,
// padding only at the end and no stray bits in the last character. A
// credential that decodes leniently could be written in several ways.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace strata::util {

std::string base64_encode(std::string_view bytes);

// The decoded bytes, or nullopt when `text` is not strict base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace strata::util
