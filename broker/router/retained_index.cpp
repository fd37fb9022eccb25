// Retained messages, indexed by topic level.
//
// Model. A tree with one node per topic level, like the subscription trie
// but keyed by topic names rather than filters, so it has no wildcard
// nodes: "a/b" and "a/c" share the node "a". A node holds the retained
// message of the topic whose path ends there, if any. Its children are a
// hash map (level_map.hpp) keyed by a string_view of each child's own copy
// of its level.
//
// Matching a filter walks the filter's levels (explicit stack, no
// recursion):
//   - a literal level follows one child;
//   - '+' follows every child;
//   - '#' takes the node itself (unless it is the root: "a/#" matches "a")
//     and its whole subtree.
// At the root, '+' and '#' skip children whose level starts with '$'
// (spec 4.7.2): "#" does not return "$SYS/..."; "$SYS/#" does. Only the
// branches a filter can match are visited, never the whole index.
//
// An expired message (expires_at_ms != 0 and <= now) met by a match is
// removed rather than returned. Deleting a retained message (a retained
// PUBLISH with an empty payload, or expiry) removes its node and every
// ancestor left empty, so the tree follows the live retained topics.
//
// One replica per core; not thread-safe; match() reuses scratch buffers.
#include "broker/router/retained_index.hpp"

#include <string>

#include "broker/router/level_map.hpp"

namespace strata::router {
namespace {

struct RetainedNode {
  RetainedNode(RetainedNode* p, std::string_view l) : parent(p), level(l) {}

  RetainedNode* parent;
  std::string level;  // the parent's children map views this
  LevelMap<RetainedNode> children;
  MessagePtr message;
};

bool is_dollar(std::string_view level) { return !level.empty() && level.front() == '$'; }

bool expired(const Message& m, std::uint64_t now_ms) {
  return m.expires_at_ms != 0 && m.expires_at_ms <= now_ms;
}

}  // namespace

struct RetainedIndex::Impl {
  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Frees the nodes without recursion: a topic may be thousands of levels
  // deep, and the nested unique_ptrs would otherwise unwind one frame each.
  ~Impl() {
    std::vector<std::unique_ptr<RetainedNode>> pending;
    auto detach = [&](RetainedNode& n) {
      for (auto& [level, child] : n.children) pending.push_back(std::move(child));
      n.children.clear();
    };
    detach(root);
    while (!pending.empty()) {
      std::unique_ptr<RetainedNode> n = std::move(pending.back());
      pending.pop_back();
      detach(*n);
    }
  }

  RetainedNode root{nullptr, {}};
  std::size_t messages = 0;
  std::size_t nodes = 0;

  // Scratch for match().
  struct Frame {
    RetainedNode* node;
    std::size_t pos;  // where the next level of the filter starts
    bool end;         // all filter levels consumed
    bool subtree;     // '#': take the node and everything below it
  };
  std::vector<Frame> stack;
  std::vector<RetainedNode*> stale;

  RetainedNode* find(std::string_view topic) {
    RetainedNode* n = &root;
    std::size_t pos = 0;
    for (;;) {
      const std::size_t slash = topic.find('/', pos);
      auto it = n->children.find(topic.substr(pos, slash - pos));
      if (it == n->children.end()) return nullptr;
      n = it->second.get();
      if (slash == std::string_view::npos) return n;
      pos = slash + 1;
    }
  }

  RetainedNode* find_or_create(std::string_view topic) {
    RetainedNode* n = &root;
    std::size_t pos = 0;
    for (;;) {
      const std::size_t slash = topic.find('/', pos);
      const std::string_view level = topic.substr(pos, slash - pos);
      auto it = n->children.find(level);
      if (it == n->children.end()) {
        auto child = std::make_unique<RetainedNode>(n, level);
        const std::string_view key = child->level;
        it = n->children.emplace(key, std::move(child)).first;
        ++nodes;
      }
      n = it->second.get();
      if (slash == std::string_view::npos) return n;
      pos = slash + 1;
    }
  }

  void remove(RetainedNode* n) {
    n->message.reset();
    --messages;
    while (n != &root && !n->message && n->children.empty()) {
      RetainedNode* parent = n->parent;
      parent->children.erase(std::string_view(n->level));
      --nodes;
      n = parent;
    }
  }
};

RetainedIndex::RetainedIndex() : impl_(std::make_unique<Impl>()) {}
RetainedIndex::~RetainedIndex() = default;

void RetainedIndex::set(const MessagePtr& msg) {
  if (!msg) return;
  if (msg->payload.empty()) {
    RetainedNode* n = impl_->find(msg->topic);
    if (n != nullptr && n->message) impl_->remove(n);
    return;
  }
  RetainedNode* n = impl_->find_or_create(msg->topic);
  if (!n->message) ++impl_->messages;
  n->message = msg;
}

void RetainedIndex::match(std::string_view filter, std::uint64_t now_ms, std::vector<MessagePtr>& out) {
  Impl& im = *impl_;
  im.stack.clear();
  im.stale.clear();
  auto take = [&](RetainedNode* n) {
    if (!n->message) return;
    if (expired(*n->message, now_ms)) {
      im.stale.push_back(n);
    } else {
      out.push_back(n->message);
    }
  };

  im.stack.push_back({&im.root, 0, false, false});
  while (!im.stack.empty()) {
    const Impl::Frame f = im.stack.back();
    im.stack.pop_back();
    const bool at_root = f.node == &im.root;
    if (f.subtree) {
      take(f.node);
      for (auto& [level, child] : f.node->children) im.stack.push_back({child.get(), 0, false, true});
      continue;
    }
    if (f.end) {
      take(f.node);
      continue;
    }
    const std::size_t slash = filter.find('/', f.pos);
    const std::string_view level = filter.substr(f.pos, slash - f.pos);
    const bool end = slash == std::string_view::npos;
    const std::size_t next = end ? filter.size() : slash + 1;
    if (level == "#") {
      if (!at_root) take(f.node);
      for (auto& [child_level, child] : f.node->children) {
        if (at_root && is_dollar(child_level)) continue;
        im.stack.push_back({child.get(), 0, false, true});
      }
    } else if (level == "+") {
      for (auto& [child_level, child] : f.node->children) {
        if (at_root && is_dollar(child_level)) continue;
        im.stack.push_back({child.get(), next, end, false});
      }
    } else {
      auto it = f.node->children.find(level);
      if (it != f.node->children.end()) im.stack.push_back({it->second.get(), next, end, false});
    }
  }

  // Each stale node still holds its message, so pruning one never frees
  // another that is waiting here.
  for (RetainedNode* n : im.stale) im.remove(n);
}

std::size_t RetainedIndex::size() const noexcept { return impl_->messages; }

std::size_t RetainedIndex::node_count() const noexcept { return impl_->nodes; }

}  // namespace strata::router
