// The adapter interface: what a bridge type (mqtt, kafka, influx) implements
// and what the outbox's driver calls. DESIGN.md (Bridges): "the outbox is
// the one shared part: adapters only differ in how they deliver and what
// counts as a confirmation."
//
// Model. An adapter is a small state machine behind one interface; it owns
// no queue. The driver of a bridge (bridges/bridge.hpp) reads the bridge's
// outbox (bridges/outbox/outbox.hpp) in offset order and hands the adapter
// batches; the adapter reports back what the target did with each record:
//
//   driver                                adapter
//   start(ctx) ─────────────────────────► connects (its own backoff)
//              ◄───────────────────────── ready(window)      connected
//   deliver(batch of ≤ window−unconfirmed)►
//              ◄───────────────────────── confirmed(offset)  PUBACK, delivery report, 204
//              ◄───────────────────────── rejected(offset, why)  permanent: to the dead letters
//              ◄───────────────────────── failed(why)        link down / target refuses for now
//              ◄───────────────────────── ready(window)      connected again
//   deliver(redelivery batch) ──────────► everything delivered and not
//                                         confirmed, again, lowest offset first
//   stop() ─────────────────────────────► closes; no event after stop() returns
//
// Rules both sides keep:
// - deliver() gets records in offset order, never more unconfirmed records
//   than the last ready() allowed. The adapter sends them in that order.
// - Confirmations may come in any order (Kafka partitions, pipelined
//   PUBACKs); each offset is confirmed or rejected at most once per
//   delivery; a repeat is ignored. The outbox's acknowledged offset is the
//   end of the contiguous confirmed prefix.
// - rejected() is for a record the target will never take (message too
//   large, a type conflict): it goes to the bridge's dead letters with the
//   reason and never blocks the queue. Anything that may succeed later is
//   failed(), not rejected().
// - After failed(), every delivered but unconfirmed record is delivered
//   again (Batch::redelivery set: an MQTT adapter sets DUP) once the
//   adapter calls ready() again; the adapter forgets its in-flight state
//   except what its protocol keeps across reconnects (MQTT QoS 2 ids).
//   A confirmation that arrives for a record after failed() still counts.
// - The adapter reconnects by itself (backoff with jitter), reporting
//   state() so the bridge's status shows it; the driver never sleeps.
//
// Threading. Each bridge has one thread running an io_context
// (AdapterContext::io); the driver calls start/deliver/stop on it. The
// AdapterEvents may be called from any thread (librdkafka's delivery
// report thread, say): they are posted onto the bridge's thread.
//
// Configuration. A bridge type is registered as an AdapterType: the keys it
// reads in a [[bridge]] table beyond the common ones (bridge_config.hpp)
// and a `make` that reads them — throwing config::ConfigError with
// file:line — and builds an adapter that has not started (no I/O), so
// `strata --check-config` validates every bridge by building it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "bridges/outbox/record.hpp"
#include "broker/config/table_reader.hpp"
#include "broker/router/message.hpp"

namespace strata::bridges {

struct BridgeConfig;
class Outbox;

// What a bridge is doing, for its status ($SYS, /api/v1/bridges).
enum class AdapterState : std::uint8_t { connecting, connected, backing_off, paused, disabled };
std::string_view state_name(AdapterState s) noexcept;

// Records to deliver, in offset order.
struct Batch {
  std::vector<RecordPtr> records;
  // Delivered before and not confirmed (after failed()/ready(), or after a
  // restart: everything above the acknowledged offset that the log says
  // may have been sent). MQTT: set DUP.
  bool redelivery = false;
  // Sent from a backlog ahead of which live records go (order =
  // "live_first", read_order.hpp). MQTT 5: the user property
  // `strata-backlog: 1`.
  bool backlog = false;
};

// The driver's side: what an adapter reports. Thread-safe.
class AdapterEvents {
 public:
  virtual ~AdapterEvents() = default;
  // Connected; up to `window` records may be unconfirmed at once (MQTT: the
  // peer's Receive Maximum or `inflight`; Kafka: the producer's queue).
  virtual void ready(std::size_t window) = 0;
  virtual void confirmed(std::uint64_t offset) = 0;
  virtual void confirmed(std::span<const std::uint64_t> offsets) = 0;
  virtual void rejected(std::uint64_t offset, std::string reason) = 0;
  virtual void failed(std::string reason) = 0;
  virtual void state(AdapterState s) = 0;
  // The peer confirmed something it had already (MQTT in: a DUP PUBLISH of
  // an id we acknowledged; counted as a duplicate in the bridge's stats).
  virtual void duplicate() {}
};

// Publishes a message that came in over a bridge into the local broker,
// through the normal pipeline (ACL as the bridge's local identity, hooks,
// rules, router), as the bridge. `done(ok)` runs on the bridge's thread
// once the message is as durable as [store] durability says; ok is false
// when it was refused (ACL, store full, publisher held too long) — the
// adapter then does not acknowledge it to the peer.
class LocalPublisher {
 public:
  virtual ~LocalPublisher() = default;
  virtual void publish(router::MessagePtr msg, std::function<void(bool ok)> done) = 0;
};

// What start() gets. More members may be added; adapters ignore what they
// do not need.
struct AdapterContext {
  AdapterEvents* events = nullptr;
  boost::asio::io_context* io = nullptr;  // the bridge's thread
  LocalPublisher* local = nullptr;        // for adapters with `in` routes
  const BridgeConfig* config = nullptr;   // outlives the adapter
  // The bridge's log, for Outbox::put_state/drop_state/loaded_state only
  // (small protocol state kept across restarts); records come by deliver().
  Outbox* outbox = nullptr;
};

class Adapter {
 public:
  virtual ~Adapter() = default;
  // Begins connecting. Called once, on the bridge's thread.
  virtual void start(const AdapterContext& ctx) = 0;
  // Sends `batch` (see the rules above). Only between ready() and failed().
  virtual void deliver(Batch batch) = 0;
  // Closes the connection; no event is reported after it returns.
  virtual void stop() = 0;
  // Records the target type cannot express, confirmed without sending
  // (Influx: a payload that gives no point), by reason, since start; for
  // $SYS, /metrics and the admin API. Any thread: the counts are atomics.
  virtual std::vector<std::pair<std::string_view, std::uint64_t>> skipped() const { return {}; }
};

// A bridge type: the keys it reads and how to build one.
struct AdapterType {
  std::string name;                   // the value of `type` ("mqtt", "kafka", "influx")
  std::vector<std::string_view> keys;  // its own [[bridge]] keys (sub-tables included)
  // Reads its keys of one [[bridge]] table with `r` (throws config::ConfigError
  // with file:line) and returns an adapter that has not started.
  std::function<std::unique_ptr<Adapter>(const BridgeConfig& bridge, const config::TableReader& r)> make;
};

// The bridge types this build knows, by name. Filled before the config is
// read (bridges/adapter_types.cpp: register_builtin_types), read-only after.
class AdapterTypes {
 public:
  void add(AdapterType type) { auto name = type.name; types_[name] = std::move(type); }
  const AdapterType* find(std::string_view name) const {
    auto it = types_.find(name);
    return it == types_.end() ? nullptr : &it->second;
  }
  std::vector<std::string_view> names() const {
    std::vector<std::string_view> out;
    for (const auto& [n, t] : types_) out.push_back(n);
    return out;
  }

 private:
  std::map<std::string, AdapterType, std::less<>> types_;
};

}  // namespace strata::bridges
