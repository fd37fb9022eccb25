// The client side of SCRAM-SHA-256 (RFC 5802 section 3) for unit tests,
// from the password: PBKDF2 straight from OpenSSL, not through the broker's
// credential code.
#pragma once

#include <string>
#include <string_view>

#include <openssl/evp.h>

#include <gtest/gtest.h>

#include "broker/auth/scram_credentials.hpp"
#include "broker/util/base64.hpp"

namespace strata::auth::testing {

// client-final for `password`, given client-first-bare and server-first.
inline std::string client_final_for(std::string_view password, std::string_view client_first_bare,
                                    std::string_view server_first, std::string_view header = "c=biws") {
  std::string nonce, salt;
  unsigned iterations = 0;
  std::string_view rest = server_first;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view f = rest.substr(0, comma);
    if (f.starts_with("r=")) nonce = f.substr(2);
    if (f.starts_with("s=")) salt = *util::base64_decode(f.substr(2));
    if (f.starts_with("i=")) iterations = static_cast<unsigned>(std::stoul(std::string(f.substr(2))));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  unsigned char salted[32];
  EXPECT_EQ(PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                              reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                              static_cast<int>(iterations), EVP_sha256(), 32, salted),
            1);
  std::string salted_password(reinterpret_cast<const char*>(salted), 32);
  std::string client_key = hmac_sha256(salted_password, "Client Key");
  std::string without_proof = std::string(header) + ",r=" + nonce;
  std::string auth_message =
      std::string(client_first_bare) + "," + std::string(server_first) + "," + without_proof;
  std::string signature = hmac_sha256(sha256(client_key), auth_message);
  for (std::size_t i = 0; i < 32; ++i) client_key[i] ^= signature[i];
  return without_proof + ",p=" + util::base64_encode(client_key);
}

}  // namespace strata::auth::testing
