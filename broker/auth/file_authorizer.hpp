// The broker's Authorizer: the password file and the ACL file of [auth],
// anonymous access per listener, certificate identities, and the
// failed-login limiter.
//
// Authentication (CONNECT), in order:
//   1. an address blocked by the limiter is refused (0x8A banned; 3.1.1: 5)
//   2. a verified certificate identity (listener.cert_username) is the
//      username and needs no password
//   3. no username: allowed if the listener allows anonymous clients
//   4. a username: checked against the password file; without a password
//      file, allowed only where anonymous clients are (it is unverified)
// Refusals are 0x86 bad user name or password / 0x87 not authorized (3.1.1:
// 4 / 5), logged with the address, and counted by the limiter.
//
// Enhanced authentication (MQTT 5 AUTH): the methods of [auth] methods,
// each an Authenticator; SCRAM-SHA-256 takes its credentials from the
// password file's SCRAM field. Around each exchange: a blocked address is
// refused at once (0x8A), every failure is logged and counted by the same
// limiter, and a success for another name than CONNECT's User Name (or,
// re-authenticating, the connection's user) is refused with 0x87. The name
// the exchange proved is the username, also over a certificate identity.
//
// Authorization: without an ACL file everything is allowed; with one, see
// acl.hpp.
//
// Reload (SIGHUP) reads both files again; if either fails the running
// rules stay and the error is logged. The broker then decides the read
// access of every subscription again (Core::recheck_subscriptions). Readers never lock: the rules are
// an immutable snapshot behind an atomic pointer. Replaced snapshots are
// kept until the broker exits (a reload is rare and a snapshot small), so
// a reader on another core never sees one freed under it.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "broker/auth/acl.hpp"
#include "broker/auth/authorizer.hpp"
#include "broker/auth/login_limiter.hpp"
#include "broker/auth/password_file.hpp"
#include "broker/auth/scram_sha256.hpp"
#include "broker/config/config.hpp"

namespace strata::auth {

class FileAuthorizer final : public Authorizer {
 public:
  // Loads the files; throws std::runtime_error ("file:line: what").
  explicit FileAuthorizer(const config::Auth& settings);

  protocol::ReasonCode authenticate(const protocol::Connect& connect, const ConnectContext& context) override;
  std::unique_ptr<AuthExchange> begin_exchange(std::string_view method, const ConnectContext& context,
                                               std::optional<std::string_view> username) override;
  bool can_publish(const ClientInfo& client, std::string_view topic) override;
  ReadAccess read_access(const ClientInfo& client, std::string_view filter) override;
  bool can_read(const ClientInfo& client, std::string_view topic) override;

  // Re-reads the files; false (and logged) when that failed.
  bool reload();

 private:
  struct Rules {
    std::optional<PasswordMap> passwords;
    std::optional<Acl> acl;
  };
  class Exchange;  // one authenticator's exchange, with the limiter around it

  std::unique_ptr<Rules> load() const;
  ScramUser scram_user(std::string_view username) const;
  protocol::ReasonCode refuse(protocol::ReasonCode reason, std::string_view host, std::string_view remote,
                              std::string_view why);

  const config::Auth settings_;
  LoginLimiter limiter_;
  std::atomic<const Rules*> current_{nullptr};
  std::mutex reload_mutex_;
  std::vector<std::unique_ptr<Rules>> snapshots_;  // current and replaced; guarded by reload_mutex_
  std::vector<std::unique_ptr<Authenticator>> authenticators_;  // [auth] methods; fixed after construction
};

}  // namespace strata::auth
