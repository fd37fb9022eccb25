// PacketIdSet: membership, insert and erase in any order, iteration sorted.
#include "broker/session/packet_id_set.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace strata::session {
namespace {

TEST(PacketIdSet, InsertContainsErase) {
  PacketIdSet s;
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(s.contains(7));
  EXPECT_EQ(s.erase(7), 0u);
  EXPECT_TRUE(s.insert(7));
  EXPECT_TRUE(s.insert(65535));
  EXPECT_TRUE(s.insert(1));
  EXPECT_FALSE(s.insert(7));  // already there
  EXPECT_EQ(s.size(), 3u);
  EXPECT_TRUE(s.contains(1));
  EXPECT_TRUE(s.contains(7));
  EXPECT_TRUE(s.contains(65535));
  EXPECT_FALSE(s.contains(2));
  EXPECT_EQ(std::vector<std::uint16_t>(s.begin(), s.end()), (std::vector<std::uint16_t>{1, 7, 65535}));
  EXPECT_EQ(s.erase(7), 1u);
  EXPECT_EQ(s.erase(7), 0u);
  EXPECT_FALSE(s.contains(7));
  EXPECT_EQ(std::vector<std::uint16_t>(s.begin(), s.end()), (std::vector<std::uint16_t>{1, 65535}));
}

TEST(PacketIdSet, ManyIdsInAnyOrder) {
  PacketIdSet s;
  // Ids inserted in a scrambled order, half of them erased again.
  for (std::uint32_t i = 0; i < 1024; ++i) EXPECT_TRUE(s.insert(static_cast<std::uint16_t>((i * 769u) % 1024u + 1)));
  EXPECT_EQ(s.size(), 1024u);
  for (std::uint16_t id = 2; id <= 1024; id += 2) EXPECT_EQ(s.erase(id), 1u);
  EXPECT_EQ(s.size(), 512u);
  for (std::uint16_t id = 1; id <= 1024; ++id) EXPECT_EQ(s.contains(id), id % 2 == 1) << id;
  EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
}

}  // namespace
}  // namespace strata::session
