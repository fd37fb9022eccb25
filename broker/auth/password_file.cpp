#include "broker/auth/password_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "broker/util/base64.hpp"

namespace strata::auth {
namespace {

constexpr std::string_view scheme = "$pbkdf2-sha512$";
constexpr std::size_t salt_size = 16;
constexpr std::size_t hash_size = 64;
constexpr unsigned max_iterations = 10'000'000;

bool derive(std::string_view password, const unsigned char* salt, unsigned iterations, unsigned char* out) {
  return PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt, salt_size,
                           static_cast<int>(iterations), EVP_sha512(), hash_size, out) == 1;
}

struct Parsed {
  unsigned iterations = 0;
  std::vector<unsigned char> salt, hash;
};

bool parse_encoded(std::string_view e, Parsed& p) {
  if (!e.starts_with(scheme)) return false;
  e.remove_prefix(scheme.size());
  auto d1 = e.find('$');
  if (d1 == std::string_view::npos || d1 == 0 || d1 > 8) return false;
  unsigned long it = 0;
  for (char c : e.substr(0, d1)) {
    if (c < '0' || c > '9') return false;
    it = it * 10 + static_cast<unsigned>(c - '0');
  }
  if (it == 0 || it > max_iterations) return false;
  p.iterations = static_cast<unsigned>(it);
  e.remove_prefix(d1 + 1);
  auto d2 = e.find('$');
  if (d2 == std::string_view::npos) return false;
  auto salt = util::base64_decode(e.substr(0, d2));
  auto hash = util::base64_decode(e.substr(d2 + 1));
  if (!salt || !hash || salt->size() != salt_size || hash->size() != hash_size) return false;
  p.salt.assign(salt->begin(), salt->end());
  p.hash.assign(hash->begin(), hash->end());
  return true;
}

}  // namespace

std::string hash_password(std::string_view password, unsigned iterations) {
  unsigned char salt[salt_size];
  unsigned char hash[hash_size];
  if (RAND_bytes(salt, sizeof salt) != 1 || !derive(password, salt, iterations, hash)) {
    throw PasswordError("cannot hash the password (OpenSSL failed)");
  }
  auto text = [](const unsigned char* data, std::size_t n) {
    return util::base64_encode(std::string_view(reinterpret_cast<const char*>(data), n));
  };
  return std::string(scheme) + std::to_string(iterations) + "$" + text(salt, sizeof salt) + "$" +
         text(hash, sizeof hash);
}

PasswordEntry make_password_entry(std::string_view password, unsigned iterations, unsigned scram_iterations) {
  PasswordEntry e;
  e.hash = hash_password(password, iterations);
  try {
    e.scram = make_scram_credentials(password, scram_iterations);
  } catch (const std::runtime_error& err) {
    throw PasswordError(err.what());
  }
  return e;
}

bool verify_password(std::string_view password, std::string_view encoded) {
  Parsed p;
  if (!parse_encoded(encoded, p)) return false;
  unsigned char hash[hash_size];
  if (!derive(password, p.salt.data(), p.iterations, hash)) return false;
  return CRYPTO_memcmp(hash, p.hash.data(), hash_size) == 0;
}

bool valid_username(std::string_view u) {
  if (u.empty()) return false;
  for (char c : u) {
    if (c == ':' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

PasswordMap parse_passwords(std::string_view text, const std::string& name) {
  PasswordMap out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    auto fail = [&](const std::string& what) {
      return PasswordError(name + ":" + std::to_string(line_no) + ": " + what);
    };
    auto colon = line.find(':');
    if (colon == std::string_view::npos) throw fail("expected username:hash");
    std::string_view user = line.substr(0, colon);
    std::string_view encoded = line.substr(colon + 1);
    // Neither base64 nor a username holds ':', so a second one starts the
    // SCRAM field.
    std::optional<std::string_view> scram;
    if (auto second = encoded.find(':'); second != std::string_view::npos) {
      scram = encoded.substr(second + 1);
      encoded = encoded.substr(0, second);
    }
    if (!valid_username(user)) throw fail("invalid username");
    Parsed p;
    if (!parse_encoded(encoded, p)) {
      throw fail("hash of '" + std::string(user) + "' is not $pbkdf2-sha512$ITERATIONS$SALT$HASH (use strata-passwd)");
    }
    PasswordEntry entry{std::string(encoded), std::nullopt};
    if (scram) {
      entry.scram = decode_scram_credentials(*scram);
      if (!entry.scram) {
        throw fail("SCRAM credentials of '" + std::string(user) +
                   "' are not $scram-sha-256$ITERATIONS$SALT$STOREDKEY$SERVERKEY (use strata-passwd)");
      }
    }
    if (!out.emplace(std::string(user), std::move(entry)).second) {
      throw fail("user '" + std::string(user) + "' is listed twice");
    }
  }
  return out;
}

PasswordMap load_password_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw PasswordError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_passwords(text.str(), path);
}

void save_text_file(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw PasswordError(tmp + ": cannot create: " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) err = errno;
    ::unlink(tmp.c_str());
    throw PasswordError(path + ": cannot write: " + std::strerror(err));
  }
}

void save_password_file(const std::string& path, const PasswordMap& users) {
  std::string text;
  for (const auto& [user, entry] : users) {
    text += user + ":" + entry.hash;
    if (entry.scram) text += ":" + encode_scram_credentials(*entry.scram);
    text += "\n";
  }
  save_text_file(path, text);
}

}  // namespace strata::auth
