// SCRAM-SHA-256 (RFC 5802, RFC 7677) as an MQTT 5 enhanced authentication
// method, the broker being the SCRAM server. Authentication Data carries
// the SCRAM messages unchanged:
//
//   CONNECT   client-first  n,,n=USER,r=CNONCE
//   AUTH 0x18 server-first  r=CNONCE SNONCE,s=SALT,i=ITERATIONS       (more)
//   AUTH 0x18 client-final  c=biws,r=CNONCE SNONCE,p=PROOF
//   CONNACK   server-final  v=SERVER-SIGNATURE                        (success)
//
// The server checks the proof against the user's StoredKey (constant-time
// comparison) and signs with its ServerKey (scram_credentials.hpp); it
// never sees the password and does no PBKDF2 itself, so a login costs two
// HMACs and a hash on the broker.
//
// Refusals (reason codes of AuthStep::failure):
//   0x86 bad user name or password — the proof does not match, the user is
//        unknown, or the user has no SCRAM-SHA-256 credentials. All three
//        fail only at client-final, after a server-first that looks the same
//        (an unknown user gets a salt derived from its name and a secret of
//        this process), so the exchange does not tell which names exist.
//   0x87 not authorized — a message that is not SCRAM (unparsable,
//        channel binding asked for, an authorization identity other than
//        the user, a changed nonce or GS2 header, a call out of order).
//
// Usernames are compared byte for byte with the password file (the
// "=2C" / "=3D" escapes of RFC 5802 are decoded; no SASLprep).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "broker/auth/authenticator.hpp"
#include "broker/auth/scram_credentials.hpp"

namespace strata::auth {

// What the credential store says about a user.
struct ScramUser {
  enum class Status : unsigned char { found, unknown_user, no_credentials };
  Status status = Status::unknown_user;
  ScramCredentials credentials;  // when found
};
using ScramLookup = std::function<ScramUser(std::string_view username)>;

class ScramSha256 final : public Authenticator {
 public:
  static constexpr std::string_view name = "SCRAM-SHA-256";

  // `lookup` is called once per exchange, from any core. Exchanges refer
  // to their authenticator, which must outlive them. `make_nonce`
  // (tests) gives the server nonce; by default 18 random bytes in base64.
  explicit ScramSha256(ScramLookup lookup, std::function<std::string()> make_nonce = {});

  std::string_view method() const noexcept override { return name; }
  std::unique_ptr<AuthExchange> begin() override;

  // The stand-in credentials for a user that has none: a salt derived from
  // the name (the same on every attempt) and keys no proof matches.
  ScramCredentials decoy(std::string_view username) const;

 private:
  const ScramLookup lookup_;
  const std::function<std::string()> make_nonce_;
  std::string secret_;  // random, per process: decoy salts
};

}  // namespace strata::auth
