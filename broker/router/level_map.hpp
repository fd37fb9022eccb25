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

namespace strata::router {

struct LevelHash {
  std::size_t operator()(std::string_view s) const {  // not noexcept: see above
    const char* p = s.data();
    std::size_t n = s.size();
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
    while (n >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
      h ^= h >> 29;
      p += 8;
      n -= 8;
    }
    std::uint64_t tail = 0;
    for (std::size_t i = 0; i < n; ++i) tail |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
    h = (h ^ tail) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return static_cast<std::size_t>(h);
  }
};

template <typename Node>
using LevelMap = std::unordered_map<std::string_view, std::unique_ptr<Node>, LevelHash>;

}  // namespace strata::router
