// [[bridge_session]] at run time: the outbox logs that are the queues of
// bridge sessions (broker/session/session_log.hpp has the model; the
// config is bridge_session_config.hpp).
//
// One log per client id, named "session:<client id>" in the outbox
// databases, kept for the life of the process across that client id's
// sessions (a new session discards what the log held: Client::attach_log).
// At construction — before Broker::run(), so before the store's writer
// starts — every log on disk whose client id a [[bridge_session]] matches
// is opened (its records and acknowledged offset read back), so that a
// session restored from the store finds its queue. A client id seen for
// the first time while the broker runs gets a fresh log (nothing of it can
// be on disk: it would have matched at start-up). Logs on disk that no
// [[bridge_session]] matches any more are left alone (and logged).
//
// Visibility: $SYS/bridge_sessions/<client id>/... (the same names as
// $SYS/bridges/<name>/... for the outbox: queued/messages, queued/bytes,
// queued/percent, dropped/<reason>, messages/appended, messages/acknowledged,
// lag_ms), `queued`, `queued_bytes`, `bridge_session` in GET
// /api/v1/sessions and /api/v1/clients/{id}, and strata_bridge_session_*
// on /metrics (bridge_api.hpp). Characters of a client id that cannot stand in
// a topic level ('/', '+', '#') are written '_' in $SYS.
//
// Reload (SIGHUP): changed bounds apply to the open logs; added or removed
// [[bridge_session]] tables, or a changed client_id, need a restart.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bridges/bridge_session_config.hpp"
#include "broker/core/broker.hpp"
#include "broker/session/session_log.hpp"

namespace strata::bridges {

class Outbox;

// Validates the [[bridge_session]] tables (strata --check-config).
void check_bridge_session_config(const config::Config& config);

class BridgeSessions : public session::SessionLogs {
 public:
  // Reads [[bridge_session]] (throws config::ConfigError with file:line),
  // opens the logs on disk, and registers with `broker` (session logs,
  // $SYS source, reload hook). Before broker.run().
  explicit BridgeSessions(core::Broker& broker);
  ~BridgeSessions() override;

  session::SessionLog* log_for(const std::string& client_id) override;

  // The open logs by client id (for tests and the API); any thread.
  std::vector<std::pair<std::string, const Outbox*>> logs();

 private:
  struct Log;
  Log* open(const std::string& client_id, const BridgeSessionConfig& config, bool fresh);
  std::string reload(const config::Config& fresh);

  core::Broker& broker_;
  std::vector<BridgeSessionConfig> configs_;  // guarded by mutex_ after start
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Log>, std::less<>> logs_;  // by client id; guarded by mutex_
};

}  // namespace strata::bridges
