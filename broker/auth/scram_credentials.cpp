#include "broker/auth/scram_credentials.hpp"

#include <algorithm>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "broker/util/base64.hpp"

namespace strata::auth {
namespace {

constexpr std::string_view scheme = "$scram-sha-256$";
constexpr std::size_t key_size = 32;  // SHA-256 output
constexpr std::size_t new_salt_size = 16;
constexpr std::size_t min_salt_size = 8;
constexpr std::size_t max_salt_size = 64;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// Splits off the text up to the next '$' (or the end).
std::string_view next_field(std::string_view& rest) {
  auto d = rest.find('$');
  std::string_view field = rest.substr(0, d);
  rest = d == std::string_view::npos ? std::string_view() : rest.substr(d + 1);
  return field;
}

}  // namespace

std::string sha256(std::string_view data) {
  std::string out(key_size, '\0');
  unsigned len = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len, EVP_sha256(),
                 nullptr) != 1 ||
      len != key_size) {
    throw std::runtime_error("SHA-256 failed (OpenSSL)");
  }
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::string out(key_size, '\0');
  unsigned len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes(data), data.size(),
           reinterpret_cast<unsigned char*>(out.data()), &len) == nullptr ||
      len != key_size) {
    throw std::runtime_error("HMAC-SHA-256 failed (OpenSSL)");
  }
  return out;
}

ScramCredentials make_scram_credentials(std::string_view password, unsigned iterations, std::string salt) {
  if (salt.empty()) {
    salt.assign(new_salt_size, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) != 1) {
      throw std::runtime_error("no random salt (OpenSSL RAND_bytes failed)");
    }
  }
  std::string salted(key_size, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), bytes(salt),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                        static_cast<int>(key_size), reinterpret_cast<unsigned char*>(salted.data())) != 1) {
    throw std::runtime_error("PBKDF2-HMAC-SHA-256 failed (OpenSSL)");
  }
  ScramCredentials c;
  c.iterations = iterations;
  c.salt = std::move(salt);
  c.stored_key = sha256(hmac_sha256(salted, "Client Key"));
  c.server_key = hmac_sha256(salted, "Server Key");
  return c;
}

std::string encode_scram_credentials(const ScramCredentials& c) {
  return std::string(scheme) + std::to_string(c.iterations) + "$" + util::base64_encode(c.salt) + "$" +
         util::base64_encode(c.stored_key) + "$" + util::base64_encode(c.server_key);
}

std::optional<ScramCredentials> decode_scram_credentials(std::string_view text) {
  if (!text.starts_with(scheme)) return std::nullopt;
  text.remove_prefix(scheme.size());
  if (std::count(text.begin(), text.end(), '$') != 3) return std::nullopt;
  std::string_view iterations = next_field(text);
  if (iterations.empty() || iterations.size() > 8) return std::nullopt;
  unsigned long n = 0;
  for (char c : iterations) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  if (n < min_scram_iterations || n > max_scram_iterations) return std::nullopt;
  auto salt = util::base64_decode(next_field(text));
  auto stored = util::base64_decode(next_field(text));
  auto server = util::base64_decode(next_field(text));
  if (!text.empty() || !salt || !stored || !server) return std::nullopt;
  if (salt->size() < min_salt_size || salt->size() > max_salt_size || stored->size() != key_size ||
      server->size() != key_size) {
    return std::nullopt;
  }
  return ScramCredentials{static_cast<unsigned>(n), std::move(*salt), std::move(*stored), std::move(*server)};
}

}  // namespace strata::auth
