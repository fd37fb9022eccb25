// The map from one topic level to a child node, used by the subscription
// trie and the retained index.
//
// Keys are string_views of the child's own copy of its level, so a lookup
// by a level of a topic being matched allocates nothing. The hash reads
// eight bytes at a time. Being a user type, it tells libstdc++ that hashing
// is cheap, so small maps are searched by hash rather than by comparing
// every key (what it does for std::hash<std::string_view> below 21
// entries). Its call operator is deliberately not noexcept: libstdc++ then
// keeps each key's hash in the map's node, so a lookup compares hashes and
// only follows a key's pointer (into the child node, likely a cache miss)
// when they are equal.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "broker/util/byte_scan.hpp"

namespace strata::router {

struct LevelHash {
  std::size_t operator()(std::string_view s) const {  // not noexcept: see above
    const char* p = s.data();
    std::size_t n = s.size();
    // The length is mixed in first: the tail below may repeat bytes, so
    // xoring it with the bare length would let lengths cancel out.
    std::uint64_t h = (0x9e3779b97f4a7c15ULL ^ n) * 0xbf58476d1ce4e5b9ULL;
    // The bytes past the last whole word are read as one (overlapping)
    // word, or two overlapping halves, or three bytes, rather than one by
    // one: with the length mixed in, every byte still counts.
    std::uint64_t tail = 0;
    if (n >= 8) {
      while (n > 8) {
        h = (h ^ util::load_word(p)) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 29;
        p += 8;
        n -= 8;
      }
      tail = util::load_word(p + n - 8);
    } else if (n >= 4) {
      tail = util::load_half_word(p) | (util::load_half_word(p + n - 4) << 32);
    } else if (n > 0) {
      tail = std::uint64_t{static_cast<unsigned char>(p[0])} |
             (std::uint64_t{static_cast<unsigned char>(p[n / 2])} << 8) |
             (std::uint64_t{static_cast<unsigned char>(p[n - 1])} << 16);
    }
    h = (h ^ tail) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return static_cast<std::size_t>(h);
  }
};

// Key equality without a call into the C library for levels of up to 16
// bytes (most of them): the map compares keys only once the cached hashes
// are equal, so this is the found child, compared once.
struct LevelEqual {
  bool operator()(std::string_view a, std::string_view b) const noexcept {
    const std::size_t n = a.size();
    if (n != b.size()) return false;
    if (n > 16) return std::memcmp(a.data(), b.data(), n) == 0;
    if (n >= 8) {
      return util::load_word(a.data()) == util::load_word(b.data()) &&
             util::load_word(a.data() + n - 8) == util::load_word(b.data() + n - 8);
    }
    if (n >= 4) {
      return util::load_half_word(a.data()) == util::load_half_word(b.data()) &&
             util::load_half_word(a.data() + n - 4) == util::load_half_word(b.data() + n - 4);
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }
};

template <typename Node>
using LevelMap = std::unordered_map<std::string_view, std::unique_ptr<Node>, LevelHash, LevelEqual>;

// The child of `map` for `level`, or null. A map of one entry (a chain of
// single children, common near the root of a topic tree) is checked by
// comparing its key without hashing; it follows the key's pointer only when
// the lengths are equal, as a hashed lookup would on a hash match.
template <typename Node>
Node* find_child(const LevelMap<Node>& map, std::string_view level) {
  if (map.empty()) return nullptr;
  if (map.size() == 1) {
    const auto& [key, child] = *map.begin();
    return LevelEqual{}(key, level) ? child.get() : nullptr;
  }
  const auto it = map.find(level);
  return it == map.end() ? nullptr : it->second.get();
}

}  // namespace strata::router
