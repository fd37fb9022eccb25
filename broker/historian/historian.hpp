// The historian module: records the topics of [historian] filters into the
// store (history_store.hpp) and answers queries (query.hpp, history_api.hpp).
//
// How messages reach it: a publish hook (core/publish_hook.hpp), not a
// router subscription. The router's subscribers are session handles that
// deliver on their own core; the historian needs each message on the core
// that accepted it, at the moment it is accepted, so that its one enqueue —
// a Kind::client operation on that core's queue of the store writer —
// lands before the `done` operation that releases the publisher's PUBACK
// under durability sync: a QoS 1/2 message acknowledged is a message in
// history. A hook gives exactly that, with no fake session; it is
// registered after the rule engine's, so it records messages as rules left
// them (a dropped message is not recorded). Matching is a scan of the
// (few) filters and exclude filters with router::topic_matches; the hook
// does nothing else on the core: payload parsing, block encoding and
// rollups run on the writer thread inside the group commit.
//
// Retention runs in steps: a timer on core 0 pushes a housekeeping
// operation every second. Filters, exclude, record_payloads,
// timestamp_field, retention and max_bytes are re-read on SIGHUP;
// `enabled` needs a restart.
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "broker/core/broker.hpp"
#include "broker/core/publish_hook.hpp"
#include "broker/historian/history_store.hpp"
#include "broker/historian/historian_config.hpp"
#include "broker/historian/query.hpp"
#include "rules/history_source.hpp"

namespace strata::historian {

// Also what rules read (history.last, history.range): a HistorySource over
// the query engine, answered on the rule's core in a read transaction.
class Historian : public core::PublishHook, public rules::HistorySource {
 public:
  // Opens the historian's databases and joins the store writer; call
  // before broker.run(). Registers the reload hook and $SYS counters.
  Historian(core::Broker& broker, const HistorianConfig& config);
  ~Historian() override;

  core::HookVerdict on_publish(router::MessagePtr& msg, unsigned core) override;
  // Starts the retention timer (on core 0's loop, before broker.run()).
  void start();

  const QueryEngine& engine() const noexcept { return engine_; }
  std::optional<std::pair<std::int64_t, double>> last(std::string_view series) const override;
  bool range(std::string_view series, std::int64_t from, std::int64_t to, std::int64_t interval,
             std::string_view agg, std::size_t max_rows, std::vector<std::pair<std::int64_t, double>>& out,
             std::string& error) const override;
  HistoryStore& store() noexcept { return store_; }
  Counters& counters() noexcept { return store_.counters(); }
  const Counters& counters() const noexcept { return store_.counters(); }

 private:
  struct Filters {
    std::vector<std::string> include, exclude;
    bool matches(std::string_view topic) const;
  };
  std::string reload(const config::Config& fresh);
  void schedule_prune();

  core::Broker& broker_;
  HistorianConfig config_;
  HistoryStore store_;
  QueryEngine engine_;
  std::vector<std::shared_ptr<const Filters>> filters_;  // per core, replaced on that core
  std::unique_ptr<boost::asio::steady_timer> prune_timer_;
};

// `strata --history PATH?QUERY [--body JSON]`: answers one history request
// (history_api.hpp) from the store of a stopped broker, prints the body;
// returns 0 for a 2xx answer, 1 otherwise (the store cannot be opened:
// the reason on stderr).
int run_offline_request(const config::Config& config, const std::string& request,
                        const std::optional<std::string>& body, std::ostream& out);

}  // namespace strata::historian
