// The live catalog of one core: every topic published through this core,
// with what was last seen on it and the history of its inferred schema.
//
// Threading: one Catalog per core, touched only by that core's thread on
// the publish path (no lock). Readers (the API, $SYS, the snapshot) post a
// query to every core and merge the answers (catalog_query.hpp), so a topic
// published through two cores appears once, with the sum of its counts and
// the latest of its values.
//
// Cost on the publish path: a known topic is one hash lookup, an O(1) move
// to the front of the LRU list and in-place updates (the last value is
// copied into the entry's string, whose capacity is reused); a new topic
// allocates its entry. Identical inferred schemas are shared between topics
// (intern), and so are publisher ids. Beyond `max_topics` the least recently
// seen topic is evicted and counted.
//
// Memory (docs/benchmarks.md, goal ≤ 400 bytes per topic with its value):
// an entry and its topic's bytes are one heap block (the topic follows the
// entry), indexed by an open-addressing table of entry pointers (linear
// probing, at most 3/4 full, deletion by backward shift), so a topic costs
// its block, its value's block, its schema-version block and ~14 bytes of
// table; no node, key string or separate topic block.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/protocol/properties.hpp"
#include "broker/uns/last_properties.hpp"
#include "broker/router/message.hpp"
#include "broker/uns/annotation.hpp"
#include "broker/uns/contract.hpp"
#include "broker/uns/inferred_schema.hpp"

namespace strata::uns {

struct SchemaVersion {
  std::shared_ptr<const InferredSchema> schema;
  std::uint64_t first_ms = 0;
  std::uint64_t last_ms = 0;
  std::uint64_t count = 0;  // messages with this schema
};

struct ViolationRecord {
  std::uint64_t at_ms = 0;
  std::string topic;
  std::string client_id;
  std::string contract;  // "namespace:<prefix>" for a model violation
  std::string version;
  std::string pointer;
  Kind kind = Kind::invalid_value;
  std::string detail;
  std::string sample;  // the payload, cut at violation_sample_bytes
  Action action = Action::reject;
};

// Exponentially weighted message rate (events per second), decayed lazily.
struct Rate {
  float value = 0;
  void add(std::uint64_t dt_ms, float tau_s);
  float at(std::uint64_t dt_ms, float tau_s) const;  // decayed by dt_ms without an event
};

struct CatalogEntry {
  std::uint64_t first_ms = 0;
  std::uint64_t last_ms = 0;
  std::uint64_t count = 0;       // messages accepted (not refused, not redirected)
  std::uint64_t violations = 0;  // messages that broke a contract or the model
  Rate rate_fast;                // tau 10 s: shown per second
  Rate rate_slow;                // tau 5 min: shown per minute
  std::uint32_t size = 0;        // of the last payload
  std::uint8_t qos = 0;
  bool retain = false;
  bool truncated = false;        // value holds only the first catalog_value_bytes
  std::uint8_t kind = 0;         // TypeBit of the last payload's root
  std::string value;
  // Interned per catalog (topics share few publishers); set once count > 0.
  std::shared_ptr<const std::string> publisher;
  // The last message's application properties; null when it had none (the usual case).
  std::unique_ptr<LastProperties> properties;
  std::vector<SchemaVersion> versions;  // oldest first, at most kMaxVersions
  std::uint32_t current = 0;            // index into versions
  // Cached from the namespace configuration (valid while generation matches;
  // declared here, next to `current`, so the two share one 8-byte slot).
  std::uint32_t generation = 0;
  std::unique_ptr<ViolationRecord> last_violation;

  // The rest of the namespace cache.
  std::shared_ptr<const Placement> place;
  std::shared_ptr<const std::string> model_error;  // set: the topic breaks its namespace's model
  const void* model_ns = nullptr;                  // the NamespaceModel governing it
  std::vector<std::uint16_t> contracts;            // indexes of matching contracts, config order

  // LRU links (most recent first).
  CatalogEntry* newer = nullptr;
  CatalogEntry* older = nullptr;
  std::uint32_t topic_size = 0;  // the topic's bytes follow the entry in its block
  std::uint32_t hash = 0;        // of the topic (low 32 bits)

  std::string_view topic() const noexcept { return {reinterpret_cast<const char*>(this + 1), topic_size}; }
};

class Catalog {
 public:
  static constexpr std::size_t kMaxVersions = 16;

  explicit Catalog(std::uint64_t max_topics) : max_topics_(max_topics) {}
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  // The entry of `topic`, created if new (`created`), now the most recent.
  CatalogEntry& touch(std::string_view topic, bool& created);
  const CatalogEntry* find(std::string_view topic) const;
  // Records one accepted message on `e`; returns the new schema version's
  // index when its schema was never seen on this topic before (drift, or
  // the first message), else -1. `doc`: the parsed payload or nullptr.
  int record(CatalogEntry& e, const router::Message& m, const rapidjson::Value* doc, std::uint64_t now_ms,
             std::uint32_t value_bytes);

  std::size_t size() const noexcept { return size_; }
  std::uint64_t evicted() const noexcept { return evicted_; }
  void set_max_topics(std::uint64_t n);

  // Most recent first.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const CatalogEntry* e = newest_; e != nullptr; e = e->older) fn(e->topic(), *e);
  }

  std::shared_ptr<const InferredSchema> intern(InferredSchema&& s);
  // The shared copy of a publisher's client id.
  std::shared_ptr<const std::string> intern_publisher(std::string_view id);

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
  };
  static std::uint32_t hash_of(std::string_view topic) noexcept {
    return static_cast<std::uint32_t>(std::hash<std::string_view>{}(topic));
  }
  // The slot holding `topic`, or the empty slot where it would go.
  std::size_t slot_of(std::string_view topic, std::uint32_t hash) const noexcept;
  void grow();
  void erase_slot(std::size_t i);
  void unlink(CatalogEntry& e);
  void push_front(CatalogEntry& e);
  void evict_oldest();
  static void destroy(CatalogEntry* e) noexcept;

  std::uint64_t max_topics_;
  std::uint64_t evicted_ = 0;
  std::vector<CatalogEntry*> slots_;  // size a power of two (or 0); nullptr: empty
  std::size_t size_ = 0;
  CatalogEntry* newest_ = nullptr;
  CatalogEntry* oldest_ = nullptr;
  std::unordered_map<std::uint64_t, std::shared_ptr<const InferredSchema>> schemas_;
  std::unordered_map<std::string_view, std::shared_ptr<const std::string>, Hash, Eq> publishers_;  // key views the value
};

}  // namespace strata::uns
