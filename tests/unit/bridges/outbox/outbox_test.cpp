// The outbox on a real store in a temporary directory: offsets, the
// contiguous acknowledged prefix, what a reopen finds, the overflow
// policies with exact counts, expiry, reading a backlog from disk, and a
// backlog many times the in-memory window (exact counts, bounded memory).
#include "bridges/outbox/outbox.hpp"

#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include <gtest/gtest.h>

#include "broker/store/store.hpp"

namespace strata::bridges {
namespace {

namespace fs = std::filesystem;

// Payloads of varying length (offset i gets payload_of(i)), so that byte
// counts catch an off-by-one.
std::string payload_of(std::uint64_t i) { return std::to_string(i) + std::string(i % 13, 'p'); }
std::uint64_t bytes_of(std::uint64_t i) { return 1 + payload_of(i).size(); }  // topic "t"

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/strata-outbox-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    config_.data_dir = dir_;
  }
  void TearDown() override {
    box_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  void open(OutboxBounds bounds = {}, std::size_t memory = Outbox::kMemoryRecords) {
    box_.reset();
    store_.reset();
    store_ = std::make_unique<store::Store>(config_, 1);
    box_ = std::make_unique<Outbox>(*store_, "factory", bounds, memory);
    store_->start([](unsigned, std::function<void()> fn) { fn(); });
  }
  // Waits until everything pushed on core 0 so far is committed.
  void commit() {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    store_->after_commit(0, [&](bool) {
      std::lock_guard lock(m);
      done = true;
      cv.notify_all();
    });
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; }));
  }
  // Counts the outbox's notifications while it lives: `mark()` before a
  // read, `wait(mark)` after an empty one returns once a later one came.
  class Notified {
   public:
    explicit Notified(Outbox& box) : outbox_(box) {
      outbox_.set_notify([this] {
        std::lock_guard lock(m_);
        ++count_;
        cv_.notify_all();
      });
    }
    ~Notified() { outbox_.set_notify(nullptr); }
    int mark() {
      std::lock_guard lock(m_);
      return count_;
    }
    void wait(int seen) {
      std::unique_lock lock(m_);
      cv_.wait_for(lock, std::chrono::seconds(5), [&] { return count_ > seen; });
    }

   private:
    Outbox& outbox_;
    std::mutex m_;
    std::condition_variable cv_;
    int count_ = 0;
  };
  // Reads up to `max` from `from`, waiting for records read back from disk.
  std::vector<RecordPtr> read_all(std::uint64_t from, std::size_t max) {
    std::vector<RecordPtr> out;
    Notified notified(*box_);
    for (int tries = 0; out.size() < max && tries < 1000; ++tries) {
      const int seen = notified.mark();
      auto got = box_->read(from, max - out.size());
      for (auto& r : got) {
        from = r->offset + 1;
        out.push_back(std::move(r));
      }
      if (out.size() >= max || from >= box_->next_offset()) break;
      if (got.empty()) notified.wait(seen);
    }
    return out;
  }
  // Reads everything from `from` to the end as a driver does, confirming
  // each batch and waiting for stretches read back from disk. Checks that
  // offsets only grow (no duplicate), that each record is payload_of() its
  // offset, and that the window stays within `max_window` entries.
  // Returns the offsets read.
  std::vector<std::uint64_t> drain(std::uint64_t from, std::size_t max_window) {
    std::vector<std::uint64_t> out;
    Notified notified(*box_);
    for (int tries = 0; tries < 100000 && from < box_->next_offset(); ++tries) {
      const int seen = notified.mark();
      std::uint64_t reached = from;
      auto got = box_->read(from, 64, UINT64_MAX, &reached);
      std::vector<std::uint64_t> offsets;
      for (auto& r : got) {
        EXPECT_EQ(r->payload, payload_of(r->offset));
        EXPECT_TRUE(out.empty() || r->offset > out.back()) << r->offset;
        offsets.push_back(r->offset);
        out.push_back(r->offset);
      }
      box_->confirm(offsets);
      EXPECT_LE(box_->window_entries(), max_window);
      from = reached;
      if (got.empty() && from < box_->next_offset()) notified.wait(seen);
    }
    return out;
  }
  static Record rec(std::string topic, std::string payload = "x", protocol::QoS qos = protocol::QoS::at_least_once) {
    Record r;
    r.topic = std::move(topic);
    r.payload = std::move(payload);
    r.qos = qos;
    return r;
  }

  std::string dir_;
  config::Config config_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Outbox> box_;
};

TEST_F(OutboxTest, OffsetsStartAtOneAndRecordsReadBackInOrder) {
  open();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(box_->append(0, rec("t/" + std::to_string(i))), Outbox::Appended::queued);
  EXPECT_EQ(box_->next_offset(), 6u);
  auto got = box_->read(1, 10);
  ASSERT_EQ(got.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(got[i]->offset, static_cast<std::uint64_t>(i + 1));
    EXPECT_EQ(got[i]->topic, "t/" + std::to_string(i));
  }
  EXPECT_EQ(box_->counters().queued_messages.load(), 5u);
  EXPECT_EQ(box_->counters().queued_bytes.load(), 5u * 4);
}

TEST_F(OutboxTest, AcknowledgedIsTheContiguousConfirmedPrefix) {
  open();
  for (int i = 0; i < 5; ++i) box_->append(0, rec("t"));
  box_->confirm(3);
  box_->confirm(2);
  EXPECT_EQ(box_->acknowledged(), 0u);
  box_->confirm(1);
  EXPECT_EQ(box_->acknowledged(), 3u);
  box_->confirm(3);  // repeat
  EXPECT_EQ(box_->counters().confirmed.load(), 3u);
  auto got = box_->read(1, 10);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]->offset, 4u);
  // Confirmed above a gap: not read again.
  box_->confirm(5);
  got = box_->read(1, 10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->offset, 4u);
  EXPECT_EQ(box_->counters().queued_messages.load(), 1u);
}

TEST_F(OutboxTest, ReopenFindsWhatWasNotAcknowledged) {
  open();
  Record r = rec("plant/a/temp", "21.5", protocol::QoS::exactly_once);
  r.mutable_properties().user_properties = {{"unit", "C"}};
  for (int i = 0; i < 4; ++i) box_->append(0, r);
  std::uint64_t done[] = {1, 2, 4};
  box_->confirm(done);
  commit();
  store_->stop();
  open();
  EXPECT_EQ(box_->acknowledged(), 2u);
  EXPECT_EQ(box_->next_offset(), 5u);
  auto got = box_->read(1, 10);
  // 4 was confirmed but its acknowledgement waited for 3: it is sent again
  // (at least once), never lost.
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]->offset, 3u);
  EXPECT_EQ(got[1]->offset, 4u);
  EXPECT_EQ(got[0]->topic, "plant/a/temp");
  EXPECT_EQ(got[0]->qos, protocol::QoS::exactly_once);
  EXPECT_EQ(got[0]->properties().user_properties, r.properties().user_properties);
  EXPECT_EQ(box_->counters().queued_messages.load(), 2u);
}

TEST_F(OutboxTest, DiscardEmptiesTheLogCountedAndSurvivesReopen) {
  open();
  for (int i = 0; i < 4; ++i) box_->append(0, rec("t"));
  box_->confirm(2);
  box_->discard();  // a bridge session started anew
  EXPECT_EQ(box_->acknowledged(), 4u);
  EXPECT_EQ(box_->counters().discarded.load(), 3u);
  EXPECT_EQ(box_->counters().confirmed.load(), 1u);
  EXPECT_EQ(box_->counters().queued_messages.load(), 0u);
  EXPECT_TRUE(box_->read(1, 10).empty());
  box_->append(0, rec("after"));
  commit();
  store_->stop();
  open();
  auto got = box_->read(1, 10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->offset, 5u);
  EXPECT_EQ(got[0]->topic, "after");
}

TEST_F(OutboxTest, OffsetsAreNotReusedAfterEverythingWasAcknowledged) {
  open();
  box_->append(0, rec("t"));
  box_->append(0, rec("t"));
  std::uint64_t both[] = {1, 2};
  box_->confirm(both);
  commit();
  store_->stop();
  open();
  EXPECT_EQ(box_->acknowledged(), 2u);
  EXPECT_EQ(box_->next_offset(), 3u);
  EXPECT_TRUE(box_->read(1, 10).empty());
}

TEST_F(OutboxTest, DropNewCountsExactly) {
  OutboxBounds b;
  b.max_messages = 3;
  b.overflow = Overflow::drop_new;
  open(b);
  int queued = 0, dropped = 0;
  for (int i = 0; i < 10; ++i) (box_->append(0, rec("t/" + std::to_string(i))) == Outbox::Appended::queued ? queued : dropped)++;
  EXPECT_EQ(queued, 3);
  EXPECT_EQ(dropped, 7);
  EXPECT_EQ(box_->counters().dropped_new.load(), 7u);
  auto got = box_->read(1, 10);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2]->topic, "t/2");
}

TEST_F(OutboxTest, FillWarningsRiseAtThresholdsAndClearTenPointsBelow) {
  OutboxBounds b;
  b.max_messages = 100;
  b.max_bytes = 1000;  // 10 bytes a record ("t/xx" + "yyyyyy"): bytes rise as fast as messages
  open(b);
  std::vector<std::pair<std::uint64_t, unsigned>> seen;
  for (int i = 0; i < 96; ++i) {
    ASSERT_EQ(box_->append(0, rec("t/" + std::to_string(10 + i % 90), "yyyyyy")), Outbox::Appended::queued);
    Fill f = box_->fill();
    if (seen.empty() || seen.back().second != f.warning) seen.emplace_back(f.percent, f.warning);
  }
  EXPECT_EQ(seen, (std::vector<std::pair<std::uint64_t, unsigned>>{{1, 0}, {50, 50}, {80, 80}, {95, 95}}));
  seen.clear();
  for (std::uint64_t o = 1; o <= 96; ++o) {
    box_->confirm(o);
    Fill f = box_->fill();
    if (seen.empty() || seen.back().second != f.warning) seen.emplace_back(f.percent, f.warning);
  }
  EXPECT_EQ(seen, (std::vector<std::pair<std::uint64_t, unsigned>>{{95, 95}, {84, 80}, {69, 50}, {39, 0}}));
  // Every confirmed record's delivery latency was recorded (a few ms at most here).
  EXPECT_LE(box_->delivery_quantile_ms(0.5), box_->delivery_quantile_ms(0.99));
  EXPECT_LT(box_->delivery_quantile_ms(0.99), 10'000u);
  std::array<std::uint64_t, util::LatencyHistogram::kBuckets> counts{};
  box_->counters().delivery_ms.add_to(counts);
  std::uint64_t total = 0;
  for (auto c : counts) total += c;
  EXPECT_EQ(total, 96u);
}

TEST_F(OutboxTest, DropOldestKeepsTheNewest) {
  OutboxBounds b;
  b.max_messages = 3;
  b.overflow = Overflow::drop_oldest;
  open(b);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(box_->append(0, rec("t/" + std::to_string(i))), Outbox::Appended::queued);
  EXPECT_EQ(box_->counters().dropped_oldest.load(), 7u);
  EXPECT_EQ(box_->acknowledged(), 7u);
  auto got = box_->read(1, 10);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0]->topic, "t/7");
  EXPECT_EQ(got[2]->topic, "t/9");
}

TEST_F(OutboxTest, BlockSaysFullAndByteBoundCounts) {
  OutboxBounds b;
  b.max_bytes = 1024;
  b.overflow = Overflow::block;
  open(b);
  std::string payload(400, 'p');
  EXPECT_EQ(box_->append(0, rec("t", payload)), Outbox::Appended::queued);
  EXPECT_EQ(box_->append(0, rec("t", payload)), Outbox::Appended::queued);
  EXPECT_EQ(box_->append(0, rec("t", payload)), Outbox::Appended::full);
  EXPECT_FALSE(box_->has_space() && false);
  box_->confirm(1);
  EXPECT_EQ(box_->append(0, rec("t", payload)), Outbox::Appended::queued);
}

TEST_F(OutboxTest, BlockMarksTheLogAndRoomCallsOnce) {
  OutboxBounds b;
  b.max_messages = 2;
  b.overflow = Overflow::block;
  open(b);
  std::atomic<std::uint32_t> blocking_logs{0};
  int called = 0;
  box_->set_space_notify([&] { ++called; }, &blocking_logs);
  EXPECT_EQ(box_->append(0, rec("a")), Outbox::Appended::queued);
  EXPECT_FALSE(box_->blocking());
  EXPECT_EQ(box_->append(0, rec("b")), Outbox::Appended::queued);
  EXPECT_TRUE(box_->blocking());  // full from this append on
  EXPECT_EQ(box_->append(0, rec("c")), Outbox::Appended::full);
  EXPECT_EQ(box_->append(0, rec("c")), Outbox::Appended::full);
  EXPECT_TRUE(box_->blocking());
  EXPECT_EQ(blocking_logs.load(), 1u);  // once per log, however many refusals
  EXPECT_EQ(called, 0);
  ASSERT_EQ(box_->read(1, 10).size(), 2u);
  box_->confirm(2);  // out of order: still frees a place
  EXPECT_EQ(called, 1);
  EXPECT_FALSE(box_->blocking());
  EXPECT_EQ(blocking_logs.load(), 0u);
  box_->confirm(1);
  EXPECT_EQ(called, 1);  // not blocking: nobody to call
  EXPECT_EQ(box_->append(0, rec("c")), Outbox::Appended::queued);
  // A refusal is not a drop: nothing counted by the outbox itself.
  EXPECT_EQ(box_->counters().dropped_blocked.load(), 0u);
  EXPECT_EQ(box_->counters().dropped_new.load(), 0u);
}

TEST_F(OutboxTest, ForcedAppendGoesPastTheBounds) {
  OutboxBounds b;
  b.max_messages = 1;
  b.overflow = Overflow::block;
  open(b);
  EXPECT_EQ(box_->append(0, rec("a")), Outbox::Appended::queued);
  EXPECT_EQ(box_->append(0, rec("b")), Outbox::Appended::full);
  EXPECT_EQ(box_->append(0, rec("b"), /*force=*/true), Outbox::Appended::queued);
  EXPECT_EQ(box_->counters().queued_messages.load(), 2u);
  auto got = box_->read(1, 10);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1]->topic, "b");
}

TEST_F(OutboxTest, ExpiryAndDeadLettersMakeRoomToo) {
  OutboxBounds b;
  b.max_messages = 2;
  b.overflow = Overflow::block;
  open(b);
  int called = 0;
  box_->set_space_notify([&] { ++called; });
  Record old = rec("old");
  old.expires_at_ms = 1;
  box_->append(0, old);
  box_->append(0, rec("b"));
  EXPECT_EQ(box_->append(0, rec("c")), Outbox::Appended::full);
  ASSERT_EQ(box_->read(1, 10).size(), 1u);  // "old" expires on the way
  EXPECT_EQ(called, 1);
  EXPECT_EQ(box_->append(0, rec("c")), Outbox::Appended::queued);
  EXPECT_EQ(box_->append(0, rec("d")), Outbox::Appended::full);
  box_->dead_letter(2, "rejected");
  EXPECT_EQ(called, 2);
}

TEST_F(OutboxTest, ExpiredRecordsLeaveCounted) {
  open();
  Record r = rec("t");
  r.expires_at_ms = 1;  // long past
  box_->append(0, r);
  box_->append(0, rec("u"));
  auto got = box_->read(1, 10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->topic, "u");
  EXPECT_EQ(box_->counters().expired.load(), 1u);
  EXPECT_EQ(box_->acknowledged(), 1u);
}

TEST_F(OutboxTest, DeadLetterCountsAsDone) {
  open();
  box_->append(0, rec("t"));
  box_->append(0, rec("u"));
  ASSERT_EQ(box_->read(1, 10).size(), 2u);
  box_->dead_letter(1, "too large");
  EXPECT_EQ(box_->acknowledged(), 1u);
  EXPECT_EQ(box_->counters().dead_lettered.load(), 1u);
}

TEST_F(OutboxTest, BacklogBeyondMemoryIsReadFromDiskInOrder) {
  open();
  box_->set_memory_limit(100);
  const int n = 5000;
  for (int i = 0; i < n; ++i) box_->append(0, rec("t", std::to_string(i)));
  commit();
  auto got = read_all(1, n);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(got[i]->offset, static_cast<std::uint64_t>(i + 1));
    ASSERT_EQ(got[i]->payload, std::to_string(i));
  }
}

// --- a backlog larger than the in-memory window --------------------------
// A small memory limit (kWindow records) makes the window small: most of
// each backlog below is only on disk, summed in chunks.

constexpr std::size_t kWindow = 50;

TEST_F(OutboxTest, BacklogPastTheWindowCountsExactlyWithBoundedMemory) {
  open({}, kWindow);
  const std::uint64_t n = 10 * kWindow + 37;
  std::uint64_t bytes = 0;
  for (std::uint64_t i = 1; i <= n; ++i) {
    ASSERT_EQ(box_->append(0, rec("t", payload_of(i))), Outbox::Appended::queued);
    bytes += bytes_of(i);
  }
  commit();
  EXPECT_EQ(box_->counters().queued_messages.load(), n);
  EXPECT_EQ(box_->counters().queued_bytes.load(), bytes);
  EXPECT_LE(box_->window_entries(), kWindow);

  // Partial confirms in the window, out of order.
  auto first = box_->read(1, 10);
  ASSERT_EQ(first.size(), 10u);
  for (std::uint64_t o : {2u, 3u, 7u}) {
    box_->confirm(o);
    bytes -= bytes_of(o);
  }
  EXPECT_EQ(box_->acknowledged(), 0u);
  EXPECT_EQ(box_->counters().queued_messages.load(), n - 3);
  EXPECT_EQ(box_->counters().queued_bytes.load(), bytes);

  // A read far into the tail (order = "live_first" reads live records
  // ahead of a backlog) and confirms there: taken off their chunk.
  const std::uint64_t far = 7 * kWindow;
  auto ahead = read_all(far, 5);
  ASSERT_EQ(ahead.size(), 5u);
  EXPECT_EQ(ahead[0]->offset, far);
  for (auto& r : ahead) {
    box_->confirm(r->offset);
    bytes -= bytes_of(r->offset);
  }
  EXPECT_EQ(box_->counters().queued_messages.load(), n - 8);
  EXPECT_EQ(box_->counters().queued_bytes.load(), bytes);
  EXPECT_EQ(box_->acknowledged(), 0u);

  // Everything else, in order, once each. The window may hold a stretch
  // read back and, behind it, the records read ahead above.
  auto got = drain(1, 2 * kWindow);
  std::vector<std::uint64_t> want;
  for (std::uint64_t o = 1; o <= n; ++o) {
    if (o != 2 && o != 3 && o != 7 && (o < far || o >= far + 5)) want.push_back(o);
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(box_->counters().queued_messages.load(), 0u);
  EXPECT_EQ(box_->counters().queued_bytes.load(), 0u);
  EXPECT_EQ(box_->counters().confirmed.load(), n);
  EXPECT_EQ(box_->acknowledged(), n);
  EXPECT_EQ(box_->oldest_ms(), 0u);
}

TEST_F(OutboxTest, WindowStaysBoundedWhileTheBacklogGrowsAndDrains) {
  open({}, kWindow);
  for (std::uint64_t i = 1; i <= 20 * kWindow; ++i) box_->append(0, rec("t", payload_of(i)));
  EXPECT_EQ(box_->window_entries(), kWindow);
  commit();
  for (std::uint64_t i = 20 * kWindow + 1; i <= 40 * kWindow; ++i) box_->append(0, rec("t", payload_of(i)));
  EXPECT_EQ(box_->window_entries(), kWindow);
  EXPECT_EQ(drain(1, kWindow).size(), 40 * kWindow);
  EXPECT_EQ(box_->window_entries(), 0u);
}

TEST_F(OutboxTest, DropOldestPastTheWindowReadsTheOldestFromDisk) {
  OutboxBounds b;
  b.max_messages = 8 * kWindow;
  b.overflow = Overflow::drop_oldest;
  open(b, kWindow);
  const std::uint64_t n = 30 * kWindow;
  for (std::uint64_t i = 1; i <= n; ++i) {
    ASSERT_EQ(box_->append(0, rec("t", payload_of(i))), Outbox::Appended::queued);
  }
  const std::uint64_t kept_from = n - b.max_messages + 1;
  std::uint64_t bytes = 0;
  for (std::uint64_t i = kept_from; i <= n; ++i) bytes += bytes_of(i);
  EXPECT_EQ(box_->counters().dropped_oldest.load(), kept_from - 1);
  EXPECT_EQ(box_->counters().dropped_new.load(), 0u);
  EXPECT_EQ(box_->counters().queued_messages.load(), b.max_messages);
  EXPECT_EQ(box_->counters().queued_bytes.load(), bytes);
  EXPECT_EQ(box_->acknowledged(), kept_from - 1);
  EXPECT_LE(box_->window_entries(), 2 * kWindow);
  commit();
  auto got = drain(1, 2 * kWindow);
  ASSERT_EQ(got.size(), b.max_messages);
  EXPECT_EQ(got.front(), kept_from);
  EXPECT_EQ(got.back(), n);
  EXPECT_EQ(box_->counters().queued_bytes.load(), 0u);
}

TEST_F(OutboxTest, MaxAgePastTheWindowExpiresWhatTheReaderReaches) {
  OutboxBounds b;
  b.max_age = std::chrono::seconds(3600);
  open(b, kWindow);
  const std::uint64_t now = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  const std::uint64_t old = now - 7200 * 1000;
  std::uint64_t bytes = 0;
  for (std::uint64_t i = 1; i <= 12 * kWindow; ++i) {
    Record r = rec("t", payload_of(i));
    const bool stale = i % 3 != 0;  // two in three are too old
    r.received_ms = stale ? old + i : now;
    bytes += bytes_of(i);
    box_->append(0, std::move(r));
  }
  commit();
  EXPECT_EQ(box_->counters().queued_bytes.load(), bytes);
  EXPECT_EQ(box_->oldest_ms(), old + 1);
  auto got = drain(1, kWindow);
  ASSERT_EQ(got.size(), 4 * kWindow);
  for (std::uint64_t o : got) ASSERT_EQ(o % 3, 0u);
  EXPECT_EQ(box_->counters().dropped_age.load(), 8 * kWindow);
  EXPECT_EQ(box_->counters().confirmed.load(), 4 * kWindow);
  EXPECT_EQ(box_->counters().queued_messages.load(), 0u);
  EXPECT_EQ(box_->counters().queued_bytes.load(), 0u);
}

TEST_F(OutboxTest, LagStaysExactWhenTheOldestIsOnlyOnDisk) {
  open({}, kWindow);
  const std::uint64_t base = 1'700'000'000'000;
  for (std::uint64_t i = 1; i <= 5 * kWindow; ++i) {
    Record r = rec("t", payload_of(i));
    r.received_ms = base + i * 1000;
    box_->append(0, std::move(r));
  }
  commit();
  EXPECT_EQ(box_->oldest_ms(), base + 1000);
  // The window's records confirmed: the oldest is the tail's first.
  auto got = box_->read(1, kWindow);
  ASSERT_EQ(got.size(), kWindow);
  for (auto& r : got) box_->confirm(r->offset);
  EXPECT_EQ(box_->oldest_ms(), base + (kWindow + 1) * 1000);
  // One stretch read back and confirmed: the next one's time is known.
  got = read_all(kWindow + 1, kWindow);
  ASSERT_EQ(got.size(), kWindow);
  for (auto& r : got) box_->confirm(r->offset);
  EXPECT_EQ(box_->acknowledged(), 2 * kWindow);
  EXPECT_EQ(box_->oldest_ms(), base + (2 * kWindow + 1) * 1000);
}

TEST_F(OutboxTest, ReopenWithATailLargerThanTheWindow) {
  open({}, kWindow);
  const std::uint64_t n = 25 * kWindow + 3;
  for (std::uint64_t i = 1; i <= n; ++i) box_->append(0, rec("t", payload_of(i)));
  commit();
  auto got = box_->read(1, 20);
  ASSERT_EQ(got.size(), 20u);
  std::vector<std::uint64_t> confirmed{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15};
  box_->confirm(confirmed);
  commit();
  store_->stop();
  open({}, kWindow);
  // 15 was confirmed out of order: above the acknowledged offset (10) it
  // was not stored as gone, so it comes back (at least once).
  std::uint64_t bytes = 0;
  for (std::uint64_t i = 11; i <= n; ++i) bytes += bytes_of(i);
  EXPECT_EQ(box_->acknowledged(), 10u);
  EXPECT_EQ(box_->next_offset(), n + 1);
  EXPECT_EQ(box_->counters().queued_messages.load(), n - 10);
  EXPECT_EQ(box_->counters().queued_bytes.load(), bytes);
  EXPECT_LE(box_->window_entries(), kWindow);
  auto all = drain(1, kWindow);
  ASSERT_EQ(all.size(), n - 10);
  for (std::size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], 11 + i);
  EXPECT_EQ(box_->counters().queued_bytes.load(), 0u);
  commit();
  store_->stop();
  open({}, kWindow);
  EXPECT_EQ(box_->acknowledged(), n);
  EXPECT_EQ(box_->counters().queued_messages.load(), 0u);
}

TEST_F(OutboxTest, DiscardWithATailCountsEveryOffset) {
  open({}, kWindow);
  for (std::uint64_t i = 1; i <= 9 * kWindow; ++i) box_->append(0, rec("t", payload_of(i)));
  commit();
  box_->confirm(1);
  box_->discard();
  EXPECT_EQ(box_->counters().discarded.load(), 9 * kWindow - 1);
  EXPECT_EQ(box_->counters().queued_messages.load(), 0u);
  EXPECT_EQ(box_->counters().queued_bytes.load(), 0u);
  EXPECT_EQ(box_->acknowledged(), 9 * kWindow);
  EXPECT_EQ(box_->window_entries(), 0u);
  box_->append(0, rec("t", "after"));
  auto got = box_->read(1, 10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->offset, 9 * kWindow + 1);
}

TEST_F(OutboxTest, AdapterStateSurvivesReopen) {
  open();
  box_->put_state("q2/7", "pubrel");
  box_->put_state("q2/8", "x");
  box_->drop_state("q2/8");
  box_->append(0, rec("t"));
  commit();
  store_->stop();
  open();
  ASSERT_EQ(box_->loaded_state().size(), 1u);
  EXPECT_EQ(box_->loaded_state().at("q2/7"), "pubrel");
}

TEST_F(OutboxTest, LoadedStateFollowsPutAndDrop) {
  // An adapter restarted on the same Outbox (a reload) starts from what the
  // previous one left, not from what was stored at open.
  open();
  box_->put_state("q2/1", "ab");
  box_->put_state("q2/2", "cd");
  box_->drop_state("q2/1");
  ASSERT_EQ(box_->loaded_state().size(), 1u);
  EXPECT_EQ(box_->loaded_state().at("q2/2"), "cd");
}

TEST_F(OutboxTest, StoredLogsAndPurge) {
  open();
  auto other = std::make_unique<Outbox>(*store_, "other", OutboxBounds{});
  auto acked = std::make_unique<Outbox>(*store_, "acked", OutboxBounds{});
  for (int i = 0; i < 3; ++i) box_->append(0, rec("t"));
  other->append(0, rec("t"));
  acked->append(0, rec("t"));
  commit();
  acked->confirm(1);  // only its acknowledged offset is left on disk
  box_->put_state("q2/1", "ab");
  box_->dead_letter(2, "too large");
  commit();
  EXPECT_EQ(Outbox::stored_logs(*store_), (std::vector<std::string>{"acked", "factory", "other"}));
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  Outbox::purge(*store_, "factory", [&] {
    std::lock_guard lock(m);
    done = true;
    cv.notify_all();
  });
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; }));
  }
  EXPECT_EQ(Outbox::stored_logs(*store_), (std::vector<std::string>{"acked", "other"}));
  other.reset();
  acked.reset();
  store_->stop();
  open();  // "factory" again: nothing of the purged log is left
  EXPECT_EQ(box_->counters().queued_messages.load(), 0u);
  EXPECT_EQ(box_->acknowledged(), 0u);
  EXPECT_EQ(box_->next_offset(), 1u);
  EXPECT_TRUE(box_->loaded_state().empty());
  std::size_t total = 99;
  EXPECT_TRUE(box_->dead_letters(0, 10, total).empty());
  EXPECT_EQ(total, 0u);
  auto kept = std::make_unique<Outbox>(*store_, "other", OutboxBounds{});
  EXPECT_EQ(kept->counters().queued_messages.load(), 1u);
}

}  // namespace
}  // namespace strata::bridges
