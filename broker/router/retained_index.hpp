// Retained messages by topic, matched against a subscription's filter.
// One replica per core, like the topic trie.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "broker/router/message.hpp"

namespace strata::router {

class RetainedIndex {
 public:
  RetainedIndex();
  ~RetainedIndex();
  RetainedIndex(const RetainedIndex&) = delete;
  RetainedIndex& operator=(const RetainedIndex&) = delete;

  // Stores `msg` as the retained message of its topic, replacing any; a
  // message with an empty payload deletes the topic's retained message.
  void set(const MessagePtr& msg);

  // Appends every retained message whose topic matches `filter` (wildcards
  // allowed, '$' rule applied). Messages whose expiry passed (`now_ms`, unix
  // ms) are removed instead of returned.
  void match(std::string_view filter, std::uint64_t now_ms, std::vector<MessagePtr>& out);

  std::size_t size() const noexcept;

  // Index nodes below the root (for tests and metrics: proves pruning).
  std::size_t node_count() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata::router
