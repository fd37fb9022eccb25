#include "broker/auth/scram_sha256.hpp"

#include <stdexcept>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "broker/util/base64.hpp"

namespace strata::auth {
namespace {

using protocol::ReasonCode;

constexpr std::size_t nonce_bytes = 18;  // 24 base64 characters
constexpr std::size_t max_message = 4096;

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed (OpenSSL)");
  }
  return out;
}

// "a=1,b=2" -> {"a=1", "b=2"}.
std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    auto comma = s.find(',');
    out.push_back(s.substr(0, comma));
    if (comma == std::string_view::npos) return out;
    s.remove_prefix(comma + 1);
  }
}

// The value of attribute `name` ("n=value" -> "value"), or nullopt.
std::optional<std::string_view> attribute(std::string_view field, char name) {
  if (field.size() < 2 || field[0] != name || field[1] != '=') return std::nullopt;
  return field.substr(2);
}

// saslname (RFC 5802 section 5.1): ',' and '=' written as "=2C" and "=3D".
std::optional<std::string> decode_saslname(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '=') {
      out += s[i];
    } else if (s.substr(i, 3) == "=2C") {
      out += ',';
      i += 2;
    } else if (s.substr(i, 3) == "=3D") {
      out += '=';
      i += 2;
    } else {
      return std::nullopt;
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// A nonce: printable ASCII except ','.
bool valid_nonce(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < 0x21 || c > 0x7E || c == ',') return false;
  }
  return true;
}

class ScramExchange final : public AuthExchange {
 public:
  ScramExchange(const ScramSha256& owner, const ScramLookup& lookup, std::string server_nonce)
      : owner_(owner), lookup_(lookup), server_nonce_(std::move(server_nonce)) {}

  AuthStep start(std::string_view client_first) override {
    if (state_ != State::first) return bad("client-first out of order");
    state_ = State::done;
    if (client_first.size() > max_message) return bad("client-first too long");
    // gs2-header: "n,," or "y,," (no channel binding), optional "a=authzid".
    auto fields = split(client_first);
    if (fields.size() < 4) return bad("client-first is not gs2-header,n=user,r=nonce");
    if (fields[0].starts_with("p=")) return bad("channel binding is not supported");
    if (fields[0] != "n" && fields[0] != "y") return bad("client-first has no GS2 channel binding flag");
    if (fields[2].starts_with("m=")) return bad("client-first has a mandatory extension");
    auto user_field = attribute(fields[2], 'n');
    auto nonce = attribute(fields[3], 'r');
    if (!user_field || !nonce) return bad("client-first is not gs2-header,n=user,r=nonce");
    auto user = decode_saslname(*user_field);
    if (!user) return bad("client-first has an invalid username");
    if (!fields[1].empty()) {
      auto authzid_field = attribute(fields[1], 'a');
      auto authzid = authzid_field ? decode_saslname(*authzid_field) : std::nullopt;
      if (!authzid || *authzid != *user) return bad("authorization identity differs from the user");
    }
    if (!valid_nonce(*nonce)) return bad("client-first has an invalid nonce");

    username_ = std::move(*user);
    gs2_header_ = client_first.substr(0, fields[0].size() + fields[1].size() + 2);
    client_first_bare_ = client_first.substr(gs2_header_.size());
    nonce_ = std::string(*nonce) + server_nonce_;

    ScramUser found = lookup_(username_);
    status_ = found.status;
    credentials_ = status_ == ScramUser::Status::found ? std::move(found.credentials) : owner_.decoy(username_);
    server_first_ = "r=" + nonce_ + ",s=" + util::base64_encode(credentials_.salt) +
                    ",i=" + std::to_string(credentials_.iterations);
    state_ = State::final;
    return AuthStep::more(server_first_);
  }

  AuthStep next(std::string_view client_final) override {
    if (state_ != State::final) return bad("client-final out of order");
    state_ = State::done;
    if (client_final.size() > max_message) return bad("client-final too long");
    // c=base64(gs2-header),r=nonce[,extensions],p=proof — the proof last.
    auto proof_at = client_final.rfind(",p=");
    if (proof_at == std::string_view::npos) return bad("client-final has no proof");
    std::string_view without_proof = client_final.substr(0, proof_at);
    auto fields = split(without_proof);
    if (fields.size() < 2) return bad("client-final is not c=...,r=...,p=...");
    auto binding = attribute(fields[0], 'c');
    auto nonce = attribute(fields[1], 'r');
    if (!binding || !nonce) return bad("client-final is not c=...,r=...,p=...");
    if (*binding != util::base64_encode(gs2_header_)) return bad("client-final channel binding differs");
    if (*nonce != nonce_) return bad("client-final nonce differs");
    auto proof = util::base64_decode(client_final.substr(proof_at + 3));
    if (!proof || proof->size() != credentials_.stored_key.size()) return bad("client-final proof is not 32 bytes");

    const std::string auth_message = client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
    // ClientKey = proof XOR HMAC(StoredKey, AuthMessage); the proof holds
    // when SHA-256(ClientKey) is the StoredKey.
    std::string client_key = hmac_sha256(credentials_.stored_key, auth_message);
    for (std::size_t i = 0; i < client_key.size(); ++i) client_key[i] ^= (*proof)[i];
    const std::string stored = sha256(client_key);
    const bool proof_ok = CRYPTO_memcmp(stored.data(), credentials_.stored_key.data(), stored.size()) == 0;
    switch (status_) {
      case ScramUser::Status::unknown_user:
        return AuthStep::failure(ReasonCode::bad_user_name_or_password, "user '" + username_ + "': unknown user");
      case ScramUser::Status::no_credentials:
        return AuthStep::failure(ReasonCode::bad_user_name_or_password,
                                 "user '" + username_ +
                                     "': no SCRAM-SHA-256 credentials in the password file (set the "
                                     "password again with strata-passwd)");
      case ScramUser::Status::found: break;
    }
    if (!proof_ok) {
      return AuthStep::failure(ReasonCode::bad_user_name_or_password, "user '" + username_ + "': wrong password");
    }
    return AuthStep::success("v=" + util::base64_encode(hmac_sha256(credentials_.server_key, auth_message)),
                             username_);
  }

 private:
  enum class State : unsigned char { first, final, done };

  AuthStep bad(std::string_view what) {
    state_ = State::done;
    return AuthStep::failure(ReasonCode::not_authorized, std::string(what));
  }

  const ScramSha256& owner_;
  const ScramLookup& lookup_;
  const std::string server_nonce_;
  State state_ = State::first;
  ScramUser::Status status_ = ScramUser::Status::unknown_user;
  std::string username_;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string nonce_;  // client nonce + server nonce
  std::string server_first_;
  ScramCredentials credentials_;
};

}  // namespace

ScramSha256::ScramSha256(ScramLookup lookup, std::function<std::string()> make_nonce)
    : lookup_(std::move(lookup)), make_nonce_(std::move(make_nonce)), secret_(random_bytes(32)) {}

std::unique_ptr<AuthExchange> ScramSha256::begin() {
  std::string nonce = make_nonce_ ? make_nonce_() : util::base64_encode(random_bytes(nonce_bytes));
  return std::make_unique<ScramExchange>(*this, lookup_, std::move(nonce));
}

ScramCredentials ScramSha256::decoy(std::string_view username) const {
  ScramCredentials c;
  c.iterations = default_scram_iterations;
  c.salt = hmac_sha256(secret_, username).substr(0, 16);
  // Keys no proof can match in practice: fresh randomness on each attempt.
  c.stored_key = random_bytes(32);
  c.server_key = random_bytes(32);
  return c;
}

}  // namespace strata::auth
