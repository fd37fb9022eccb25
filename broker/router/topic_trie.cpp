// The subscription trie.
//
// Model. Every subscribed filter is a path from the root, one node per
// level: "a/+/c" is root -> "a" -> '+' -> "c". A node keeps its literal
// children in a hash map (level_map.hpp) keyed by the level (a string_view
// of the child's own copy of the level, so lookups by a topic's level
// allocate nothing), and its '+' and '#' children in two dedicated slots,
// so the wildcard branches cost a pointer test rather than a hash lookup. The
// subscriptions of a filter live on the node where its path ends:
//   - non-shared ones in `subs`, one entry per subscriber (re-subscribing
//     replaces the options); a hash index by subscriber is built once a node
//     has more than kIndexThreshold of them, below that a scan is cheaper;
//   - shared ones in `groups`, one ShareGroup per share name, each with its
//     member list, indexed by subscriber above kIndexThreshold members like
//     `subs` (a group of thousands of members — one per stored session at
//     start-up — would otherwise cost a scan per subscribe).
//
// Matching a topic walks the levels with an explicit stack (no recursion:
// a topic may have thousands of levels). At a node reached after consuming
// i levels of an n-level topic:
//   - its '#' child matches (whatever is left, including nothing: "a/#"
//     matches "a");
//   - if i == n the node itself matches;
//   - otherwise the literal child for level i and the '+' child continue.
// At the root, the '+' and '#' children are skipped for topics starting
// with '$' (spec 4.7.2). So the work is the topic's depth times the number
// of wildcard branches met, independent of the number of subscriptions.
//
// Delivery decisions, per matched node:
//   - non-shared: one Match per subscriber. When more than one node matched,
//     a subscriber with several matching filters is merged into one Match
//     (highest QoS, every identifier, retain_as_published OR'ed,
//     check_read AND'ed: one wholly readable filter suffices) through a
//     reused open-addressing table (no allocation); a no_local subscription
//     of the publisher is skipped.
//   - shared: each (group, filter) picks one member: the least recently
//     served of the online members; if none is online, of the members whose
//     session has not ended; else of all. "Served" is a trie-wide counter
//     stamped on the member picked, so a new member (never served) is picked
//     first. Picking scans the group's members: groups are small.
//
// Unsubscribing the last subscription of a node removes it, then every
// ancestor left without subscriptions or children, so memory follows the
// live subscriptions under churn.
//
// Filters are assumed valid (topic.hpp); the broker checks them first.
// Each core owns its trie; nothing here is thread-safe, and the scratch
// buffers reused by match() make it non-reentrant.
#include "broker/router/topic_trie.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <string>
#include <unordered_map>
#include <utility>

#include "broker/router/level_map.hpp"

namespace strata::router {
namespace {

using session::SessionHandle;
using session::SessionRef;

// Above this many non-shared subscribers a node indexes them by subscriber.
constexpr std::size_t kIndexThreshold = 16;

struct ShareMember {
  Subscription sub;
  std::uint64_t last_served = 0;  // 0: never served
};

// subscriber -> position in Node::subs or ShareGroup::members
using SubIndex = std::unordered_map<const SessionHandle*, std::size_t>;

struct ShareGroup {
  std::string name;
  std::string filter;
  std::vector<ShareMember> members;
  std::unique_ptr<SubIndex> member_index;  // null while members is small
};

struct Node {
  enum class Kind : std::uint8_t { root, literal, plus, hash };

  Node(Node* p, Kind k, std::string_view l) : parent(p), kind(k), level(l) {}

  bool empty() const noexcept {
    return subs.empty() && groups.empty() && children.empty() && !plus && !hash;
  }

  Node* parent;
  Kind kind;
  std::string level;  // the children map of the parent views this
  LevelMap<Node> children;
  std::unique_ptr<Node> plus;
  std::unique_ptr<Node> hash;
  std::vector<Subscription> subs;
  std::unique_ptr<SubIndex> sub_index;  // null while subs is small
  // unique_ptr: Match::share_group/share_filter view the strings.
  std::vector<std::unique_ptr<ShareGroup>> groups;
};

constexpr std::size_t npos = static_cast<std::size_t>(-1);

std::size_t find_sub(const Node& n, const SessionHandle* who) {
  if (n.sub_index) {
    auto it = n.sub_index->find(who);
    return it == n.sub_index->end() ? npos : it->second;
  }
  for (std::size_t i = 0; i < n.subs.size(); ++i) {
    if (n.subs[i].subscriber.get() == who) return i;
  }
  return npos;
}

void add_sub(Node& n, Subscription sub) {
  const SessionHandle* who = sub.subscriber.get();
  n.subs.push_back(std::move(sub));
  if (n.sub_index) {
    n.sub_index->emplace(who, n.subs.size() - 1);
  } else if (n.subs.size() > kIndexThreshold) {
    n.sub_index = std::make_unique<SubIndex>();
    n.sub_index->reserve(n.subs.size() * 2);
    for (std::size_t i = 0; i < n.subs.size(); ++i) n.sub_index->emplace(n.subs[i].subscriber.get(), i);
  }
}

void remove_sub(Node& n, std::size_t i) {
  const SessionHandle* who = n.subs[i].subscriber.get();
  if (i + 1 != n.subs.size()) {
    n.subs[i] = std::move(n.subs.back());
    if (n.sub_index) (*n.sub_index)[n.subs[i].subscriber.get()] = i;
  }
  n.subs.pop_back();
  if (n.sub_index) {
    n.sub_index->erase(who);
    // Drop the index once a scan is cheap again.
    if (n.subs.size() <= kIndexThreshold / 2) n.sub_index.reset();
  }
}

ShareGroup* find_group(const Node& n, std::string_view name) {
  for (const auto& g : n.groups) {
    if (g->name == name) return g.get();
  }
  return nullptr;
}

std::size_t find_member(const ShareGroup& g, const SessionHandle* who) {
  if (g.member_index) {
    auto it = g.member_index->find(who);
    return it == g.member_index->end() ? npos : it->second;
  }
  for (std::size_t i = 0; i < g.members.size(); ++i) {
    if (g.members[i].sub.subscriber.get() == who) return i;
  }
  return npos;
}

void add_member(ShareGroup& g, Subscription sub) {
  const SessionHandle* who = sub.subscriber.get();
  g.members.push_back({std::move(sub), 0});
  if (g.member_index) {
    g.member_index->emplace(who, g.members.size() - 1);
  } else if (g.members.size() > kIndexThreshold) {
    g.member_index = std::make_unique<SubIndex>();
    g.member_index->reserve(g.members.size() * 2);
    for (std::size_t i = 0; i < g.members.size(); ++i) g.member_index->emplace(g.members[i].sub.subscriber.get(), i);
  }
}

// Keeps the members in subscription order: among members never served,
// the earliest subscribed is picked first.
void remove_member(ShareGroup& g, std::size_t i) {
  const SessionHandle* who = g.members[i].sub.subscriber.get();
  g.members.erase(g.members.begin() + static_cast<std::ptrdiff_t>(i));
  if (!g.member_index) return;
  if (g.members.size() <= kIndexThreshold / 2) {
    g.member_index.reset();
    return;
  }
  g.member_index->erase(who);
  for (std::size_t j = i; j < g.members.size(); ++j) (*g.member_index)[g.members[j].sub.subscriber.get()] = j;
}

// Calls f(level) for each level of `s`.
template <typename F>
void for_each_level(std::string_view s, F&& f) {
  std::size_t pos = 0;
  for (;;) {
    const std::size_t slash = s.find('/', pos);
    if (!f(s.substr(pos, slash - pos))) return;
    if (slash == std::string_view::npos) return;
    pos = slash + 1;
  }
}

Node* child_of(const Node& n, std::string_view level) {
  if (level == "+") return n.plus.get();
  if (level == "#") return n.hash.get();
  auto it = n.children.find(level);
  return it == n.children.end() ? nullptr : it->second.get();
}

void add_to_match(Match& m, const Subscription& s) {
  m.qos = std::max(m.qos, s.options.max_qos);
  m.retain_as_published = m.retain_as_published || s.options.retain_as_published;
  m.check_read = m.check_read && s.check_read;
  if (s.identifier != 0 &&
      std::find(m.identifiers.begin(), m.identifiers.end(), s.identifier) == m.identifiers.end()) {
    m.identifiers.push_back(s.identifier);
  }
}

Match make_match(const Subscription& s) {
  Match m;
  m.subscriber = s.subscriber;
  m.qos = s.options.max_qos;
  m.retain_as_published = s.options.retain_as_published;
  m.check_read = s.check_read;
  if (s.identifier != 0) m.identifiers.push_back(s.identifier);
  return m;
}

// Subscriber -> index of its Match in `out`, for merging the subscriptions
// of one subscriber within one match(). Open addressing in a buffer reused
// across matches: reset() clears only the slots this match uses, so a
// match costs time in proportion to its candidates and, once the buffer has
// grown, allocates nothing.
class SeenTable {
 public:
  void reset(std::size_t candidates) {
    const std::size_t cap = std::bit_ceil(std::max<std::size_t>(16, candidates * 2));
    if (slots_.size() < cap || (slots_.size() > 8 * cap && slots_.size() > (1u << 16))) {
      std::vector<Slot>(cap).swap(slots_);  // grow, or give back a spike's memory
    } else {
      std::fill_n(slots_.begin(), cap, Slot{});
    }
    mask_ = cap - 1;
  }

  // The index stored for `who`; if none, stores `index` and returns npos.
  std::size_t find_or_insert(const SessionHandle* who, std::size_t index) {
    for (std::size_t i = hash(who) & mask_;; i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (slot.who == who) return slot.index;
      if (slot.who == nullptr) {
        slot = {who, index};
        return npos;
      }
    }
  }

 private:
  struct Slot {
    const SessionHandle* who = nullptr;
    std::size_t index = 0;
  };

  static std::size_t hash(const SessionHandle* p) {
    auto x = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p));
    x ^= x >> 33;
    x *= 0xff51afd7ed268ccdULL;
    x ^= x >> 33;
    return static_cast<std::size_t>(x);
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

}  // namespace

struct TopicTrie::Impl {
  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Frees the nodes without recursion: a filter may be thousands of levels
  // deep, and the nested unique_ptrs would otherwise unwind one frame each.
  ~Impl() {
    std::vector<std::unique_ptr<Node>> pending;
    auto detach = [&](Node& n) {
      for (auto& [level, child] : n.children) pending.push_back(std::move(child));
      n.children.clear();
      if (n.plus) pending.push_back(std::move(n.plus));
      if (n.hash) pending.push_back(std::move(n.hash));
    };
    detach(root);
    while (!pending.empty()) {
      std::unique_ptr<Node> n = std::move(pending.back());
      pending.pop_back();
      detach(*n);
    }
  }

  Node root{nullptr, Node::Kind::root, {}};
  std::size_t subscriptions = 0;
  std::size_t nodes = 0;
  std::uint64_t serve_clock = 0;

  // Scratch for match(), kept to reuse their memory.
  struct Frame {
    const Node* node;
    std::size_t pos;  // where the next level of the topic starts
    bool end;         // all levels consumed
  };
  std::vector<Frame> stack;
  std::vector<const Node*> hits;
  SeenTable seen;

  Node* find(std::string_view filter) {
    Node* n = &root;
    for_each_level(filter, [&](std::string_view level) {
      n = child_of(*n, level);
      return n != nullptr;
    });
    return n;
  }

  Node* find_or_create(std::string_view filter) {
    Node* n = &root;
    for_each_level(filter, [&](std::string_view level) {
      std::unique_ptr<Node>* slot = nullptr;
      Node::Kind kind = Node::Kind::literal;
      if (level == "+") {
        slot = &n->plus;
        kind = Node::Kind::plus;
      } else if (level == "#") {
        slot = &n->hash;
        kind = Node::Kind::hash;
      }
      if (slot != nullptr) {
        if (!*slot) {
          *slot = std::make_unique<Node>(n, kind, level);
          ++nodes;
        }
        n = slot->get();
        return true;
      }
      auto it = n->children.find(level);
      if (it == n->children.end()) {
        auto child = std::make_unique<Node>(n, kind, level);
        const std::string_view key = child->level;
        it = n->children.emplace(key, std::move(child)).first;
        ++nodes;
      }
      n = it->second.get();
      return true;
    });
    return n;
  }

  // Removes `n` and its ancestors while they hold nothing.
  void prune(Node* n) {
    while (n != &root && n->empty()) {
      Node* parent = n->parent;
      switch (n->kind) {
        case Node::Kind::plus: parent->plus.reset(); break;
        case Node::Kind::hash: parent->hash.reset(); break;
        default: parent->children.erase(std::string_view(n->level)); break;
      }
      --nodes;
      n = parent;
    }
  }

  ShareMember* pick(ShareGroup& g, const SessionHandle* except) {
    ShareMember* best = nullptr;
    int best_tier = 3;
    for (auto& m : g.members) {
      const SessionHandle* h = m.sub.subscriber.get();
      if (h == except) continue;
      const int tier = h->online.load(std::memory_order_relaxed)        ? 0
                       : !h->ended.load(std::memory_order_relaxed)      ? 1
                                                                        : 2;
      if (tier < best_tier || (tier == best_tier && m.last_served < best->last_served)) {
        best = &m;
        best_tier = tier;
      }
    }
    if (best != nullptr) best->last_served = ++serve_clock;
    return best;
  }

  void collect(std::string_view topic) {
    hits.clear();
    const bool dollar = !topic.empty() && topic.front() == '$';
    // The stack is used by index, grown before a frame can push its two
    // children: no capacity check per push.
    if (stack.size() < 8) stack.resize(8);
    std::size_t depth = 0;
    stack[depth++] = {&root, 0, false};
    while (depth != 0) {
      const Frame f = stack[--depth];
      const bool skip_wild = dollar && f.node == &root;
      if (f.node->hash && !skip_wild) hits.push_back(f.node->hash.get());
      if (f.end) {
        hits.push_back(f.node);
        continue;
      }
      const std::size_t slash = topic.find('/', f.pos);
      const bool end = slash == std::string_view::npos;
      const std::size_t next = end ? topic.size() : slash + 1;
      const std::string_view level(topic.data() + f.pos, (end ? topic.size() : slash) - f.pos);
      if (depth + 2 > stack.size()) stack.resize(2 * stack.size());
      if (f.node->plus && !skip_wild) stack[depth++] = {f.node->plus.get(), next, end};
      if (const Node* child = find_child(f.node->children, level)) stack[depth++] = {child, next, end};
    }
  }
};

TopicTrie::TopicTrie() : impl_(std::make_unique<Impl>()) {}
TopicTrie::~TopicTrie() = default;

bool TopicTrie::subscribe(std::string_view filter, std::string_view group, Subscription sub) {
  assert(sub.subscriber != nullptr);
  Node* n = impl_->find_or_create(filter);
  const SessionHandle* who = sub.subscriber.get();
  if (group.empty()) {
    const std::size_t i = find_sub(*n, who);
    if (i != npos) {
      n->subs[i] = std::move(sub);
      return false;
    }
    add_sub(*n, std::move(sub));
  } else {
    ShareGroup* g = find_group(*n, group);
    if (g == nullptr) {
      n->groups.push_back(std::make_unique<ShareGroup>(ShareGroup{std::string(group), std::string(filter), {}, nullptr}));
      g = n->groups.back().get();
    }
    if (const std::size_t i = find_member(*g, who); i != npos) {
      g->members[i].sub = std::move(sub);
      return false;
    }
    add_member(*g, std::move(sub));
  }
  ++impl_->subscriptions;
  return true;
}

bool TopicTrie::unsubscribe(std::string_view filter, std::string_view group,
                            const session::SessionHandle* subscriber) {
  Node* n = impl_->find(filter);
  if (n == nullptr) return false;
  if (group.empty()) {
    const std::size_t i = find_sub(*n, subscriber);
    if (i == npos) return false;
    remove_sub(*n, i);
  } else {
    auto git = std::find_if(n->groups.begin(), n->groups.end(),
                            [&](const auto& g) { return g->name == group; });
    if (git == n->groups.end()) return false;
    ShareGroup& g = **git;
    const std::size_t i = find_member(g, subscriber);
    if (i == npos) return false;
    remove_member(g, i);
    if (g.members.empty()) n->groups.erase(git);
  }
  --impl_->subscriptions;
  impl_->prune(n);
  return true;
}

void TopicTrie::match(std::string_view topic, const session::SessionHandle* publisher,
                      std::vector<Match>& out) {
  Impl& im = *impl_;
  im.collect(topic);

  // Only when several nodes hold subscriptions can one subscriber appear
  // twice (a node has one entry per subscriber).
  std::size_t with_subs = 0;
  std::size_t candidates = 0;
  for (const Node* n : im.hits) {
    with_subs += n->subs.empty() ? 0 : 1;
    candidates += n->subs.size();
  }
  const bool dedupe = with_subs > 1;
  if (dedupe) im.seen.reset(candidates);

  for (const Node* n : im.hits) {
    for (const Subscription& s : n->subs) {
      if (s.options.no_local && s.subscriber.get() == publisher) continue;
      if (dedupe) {
        const std::size_t seen = im.seen.find_or_insert(s.subscriber.get(), out.size());
        if (seen != npos) {
          add_to_match(out[seen], s);
          continue;
        }
      }
      out.push_back(make_match(s));
    }
    for (const auto& g : n->groups) {
      ShareMember* m = im.pick(*g, nullptr);
      if (m == nullptr) continue;
      Match& match = out.emplace_back(make_match(m->sub));
      match.share_group = g->name;
      match.share_filter = g->filter;
    }
  }
}

session::SessionRef TopicTrie::pick_share_member(std::string_view group, std::string_view filter,
                                                 const session::SessionHandle* except) {
  Node* n = impl_->find(filter);
  if (n == nullptr) return nullptr;
  ShareGroup* g = find_group(*n, group);
  if (g == nullptr) return nullptr;
  ShareMember* m = impl_->pick(*g, except);
  return m == nullptr ? nullptr : m->sub.subscriber;
}

std::size_t TopicTrie::subscription_count() const noexcept { return impl_->subscriptions; }

std::size_t TopicTrie::node_count() const noexcept { return impl_->nodes; }

}  // namespace strata::router
