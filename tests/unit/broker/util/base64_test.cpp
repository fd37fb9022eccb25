#include "broker/util/base64.hpp"

#include <gtest/gtest.h>

namespace strata::util {
namespace {

TEST(Base64, Rfc4648Vectors) {
  // RFC 4648, section 10.
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},         {"f", "Zg=="},        {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), std::optional<std::string>(plain)) << encoded;
  }
}

TEST(Base64, BinaryRoundTrip) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    std::string part = all.substr(0, n);
    EXPECT_EQ(base64_decode(base64_encode(part)), std::optional<std::string>(part));
  }
  EXPECT_EQ(base64_encode(std::string("\xFB\xFF", 2)), "+/8=");
}

TEST(Base64, StrictDecoding) {
  EXPECT_FALSE(base64_decode("Zg="));       // length not a multiple of 4
  EXPECT_FALSE(base64_decode("Zg"));        // padding missing
  EXPECT_FALSE(base64_decode("Zh=="));      // stray bits after the last byte
  EXPECT_FALSE(base64_decode("Zm9="));      // stray bits after the last byte
  EXPECT_FALSE(base64_decode("Z==="));      // three padding characters
  EXPECT_FALSE(base64_decode("===="));
  EXPECT_FALSE(base64_decode("Zg==Zg=="));  // padding in the middle
  EXPECT_FALSE(base64_decode("Zm9v\n"));    // whitespace
  EXPECT_FALSE(base64_decode("Zm-v"));      // URL-safe alphabet is not this one
}

}  // namespace
}  // namespace strata::util
