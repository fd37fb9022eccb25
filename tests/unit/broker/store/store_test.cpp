// The store behind its interface, on a temporary directory: what is saved
// is loaded back after a reopen, drops and expiry remove it, after_commit
// callbacks run, and bad directories are refused with clear errors.
#include "broker/store/store.hpp"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace strata::store {
namespace {

namespace fs = std::filesystem;
using protocol::QoS;
using ::testing::HasSubstr;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/strata-store-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    config_.data_dir = dir_;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Store> open() {
    auto s = std::make_unique<Store>(config_, 1);
    return s;
  }
  // Starts the writer with callbacks run on the writer's post (no cores here).
  void start(Store& s) {
    s.start([this](unsigned, std::function<void()> fn) {
      fn();
      std::lock_guard lock(mutex_);
      ++posted_;
      cv_.notify_all();
    });
  }
  void wait_posted(int n) {
    std::unique_lock lock(mutex_);
    ASSERT_TRUE(cv_.wait_for(lock, std::chrono::seconds(10), [&] { return posted_ >= n; }));
  }
  struct Loaded {
    std::vector<LoadedSession> sessions;
    std::vector<router::MessagePtr> retained;
    LoadStats stats;
  };
  Loaded load(Store& s, std::uint64_t now = 1000) {
    Loaded l;
    l.stats = s.load(
        now, [&](LoadedSession&& ls) { l.sessions.push_back(std::move(ls)); },
        [&](router::MessagePtr m) { l.retained.push_back(std::move(m)); });
    return l;
  }

  static router::MessagePtr msg(std::string topic, std::string payload, std::uint64_t expires = 0) {
    auto m = router::Message::make(std::move(topic), std::move(payload));
    m->qos = QoS::at_least_once;
    m->expires_at_ms = expires;
    return m;
  }

  std::string dir_;
  config::Config config_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int posted_ = 0;
};

TEST_F(StoreTest, SessionWithQueueInflightAndQos2SurvivesReopen) {
  auto h = std::make_shared<session::SessionHandle>("dev-1", 1, 0);
  session::Session s(h, protocol::Version::v5);
  s.expiry_interval = 600;
  s.subscriptions["a/#"] = session::StoredSubscription{{QoS::exactly_once, false, false, 0}, 5};
  {
    auto store = open();
    load(*store);
    start(*store);
    store->save_session(0, s);
    EXPECT_TRUE(s.stored);
    session::Delivery q1{msg("a/1", "one"), QoS::at_least_once, false, false, {}, {}, {}, 0, {}};
    session::Delivery q2{msg("a/2", "two"), QoS::exactly_once, false, false, {5}, {}, {}, 0, {}};
    session::Delivery gone{msg("a/3", "acked"), QoS::at_least_once, false, false, {}, {}, {}, 0, {}};
    store->save_delivery(0, s, gone, DeliveryState::await_puback, 1);
    store->save_delivery(0, s, q1, DeliveryState::await_pubrec, 2);
    store->save_delivery(0, s, q2, DeliveryState::queued, 0);
    store->drop_delivery(0, s, gone);
    EXPECT_EQ(gone.seq, 1u);
    EXPECT_EQ(q2.seq, 3u);
    store->save_qos2(0, s, 9);
    store->save_qos2(0, s, 10);
    store->drop_qos2(0, s, 9);
    store->save_retained(0, *msg("r/1", "kept"));
    store->save_retained(0, *msg("r/2", "deleted"));
    store->save_retained(0, *msg("r/2", ""));
    bool stored = false;
    store->after_commit(0, [&](bool ok) { stored = ok; });
    wait_posted(1);
    EXPECT_TRUE(stored);
    store->stop();
  }
  auto store = open();
  Loaded l = load(*store);
  ASSERT_EQ(l.sessions.size(), 1u);
  const LoadedSession& ls = l.sessions[0];
  EXPECT_EQ(ls.record.client_id, "dev-1");
  EXPECT_EQ(ls.record.expiry_interval, 600u);
  ASSERT_EQ(ls.record.subscriptions.size(), 1u);
  EXPECT_EQ(ls.record.subscriptions[0].second.identifier, 5u);
  ASSERT_EQ(ls.deliveries.size(), 2u);
  EXPECT_EQ(ls.deliveries[0].seq, 2u);
  EXPECT_EQ(ls.deliveries[0].state, static_cast<std::uint8_t>(DeliveryState::await_pubrec));
  EXPECT_EQ(ls.deliveries[0].packet_id, 2);
  EXPECT_EQ(ls.deliveries[0].delivery.msg->payload, "one");
  EXPECT_EQ(ls.deliveries[1].seq, 3u);
  EXPECT_EQ(ls.deliveries[1].state, 0);
  EXPECT_EQ(ls.deliveries[1].delivery.identifiers, std::vector<std::uint32_t>{5});
  EXPECT_EQ(ls.qos2_received, std::vector<std::uint16_t>{10});
  ASSERT_EQ(l.retained.size(), 1u);
  EXPECT_EQ(l.retained[0]->topic, "r/1");
  EXPECT_EQ(l.retained[0]->payload, "kept");
}

TEST_F(StoreTest, DropSessionRemovesEverythingOfThatSessionOnly) {
  auto ha = std::make_shared<session::SessionHandle>("a", 1, 0);
  auto hab = std::make_shared<session::SessionHandle>("ab", 2, 0);
  session::Session a(ha, protocol::Version::v5), ab(hab, protocol::Version::v5);
  a.expiry_interval = ab.expiry_interval = 60;
  {
    auto store = open();
    load(*store);
    start(*store);
    for (session::Session* s : {&a, &ab}) {
      store->save_session(0, *s);
      session::Delivery d{msg("t", "x"), QoS::at_least_once, false, false, {}, {}, {}, 0, {}};
      store->save_delivery(0, *s, d, DeliveryState::queued, 0);
      store->save_qos2(0, *s, 1);
    }
    store->drop_session(0, a);
    EXPECT_FALSE(a.stored);
    store->stop();
  }
  auto store = open();
  Loaded l = load(*store);
  ASSERT_EQ(l.sessions.size(), 1u);
  EXPECT_EQ(l.sessions[0].record.client_id, "ab");
  EXPECT_EQ(l.sessions[0].deliveries.size(), 1u);
  EXPECT_EQ(l.sessions[0].qos2_received.size(), 1u);
}

TEST_F(StoreTest, ExpiredSessionsAndMessagesAreDeletedAtLoad) {
  auto h = std::make_shared<session::SessionHandle>("old", 1, 0);
  session::Session s(h, protocol::Version::v5);
  s.expiry_interval = 10;
  s.deadline_ms = 5000;
  {
    auto store = open();
    load(*store);
    start(*store);
    store->save_session(0, s);
    store->save_retained(0, *msg("r/expiring", "x", 5000));
    store->save_retained(0, *msg("r/forever", "y"));
    store->stop();
  }
  {
    auto store = open();
    Loaded l = load(*store, 4999);  // before the deadline: all there
    EXPECT_EQ(l.sessions.size(), 1u);
    EXPECT_EQ(l.retained.size(), 2u);
  }
  {
    auto store = open();
    Loaded l = load(*store, 5000);
    EXPECT_EQ(l.sessions.size(), 0u);
    EXPECT_EQ(l.stats.expired_sessions, 1u);
    EXPECT_EQ(l.stats.expired_messages, 1u);
    ASSERT_EQ(l.retained.size(), 1u);
    start(*store);  // applies the deletions
    store->stop();
  }
  auto store = open();
  Loaded l = load(*store, 0);  // even "before" the deadline: they are gone
  EXPECT_EQ(l.sessions.size(), 0u);
  EXPECT_EQ(l.retained.size(), 1u);
}

TEST_F(StoreTest, SecondOpenOfTheSameDirectoryIsRefused) {
  auto first = open();
  try {
    auto second = open();
    FAIL() << "second open succeeded";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("is in use by another strata process (pid " + std::to_string(::getpid()) + ")"));
  }
  first.reset();
  EXPECT_NO_THROW(open());  // released with the first
}

TEST_F(StoreTest, NewerFormatIsRefused) {
  open().reset();  // creates the store with format 1
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  mdb_env_set_maxdbs(env, 8);
  ASSERT_EQ(mdb_env_open(env, (dir_ + "/store").c_str(), 0, 0640), 0);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  MDB_dbi meta;
  ASSERT_EQ(mdb_dbi_open(txn, "meta", 0, &meta), 0);
  MDB_val key{6, const_cast<char*>("format")};
  char two[4] = {0, 0, 0, 2};
  MDB_val val{4, two};
  ASSERT_EQ(mdb_put(txn, meta, &key, &val, 0), 0);
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
  try {
    open();
    FAIL() << "a format 2 store was opened";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("was written in store format 2; this strata reads format 1"));
  }
}

TEST_F(StoreTest, EmptyDataFileIsRefused) {
  open().reset();
  fs::resize_file(dir_ + "/store/data.mdb", 0);
  try {
    open();
    FAIL() << "an empty data.mdb was opened (as a new store)";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr(dir_ + "/store/data.mdb is empty (0 bytes)"));
  }
  EXPECT_EQ(fs::file_size(dir_ + "/store/data.mdb"), 0u);  // left as found
}

TEST_F(StoreTest, CountersFollowCommits) {
  auto store = open();
  load(*store);
  WriterCounters& c = store->counters();
  EXPECT_EQ(c.map_size.load(), config_.store.map_size);
  const std::uint64_t used0 = c.map_used.load();
  EXPECT_GT(used0, 0u);
  EXPECT_EQ(used0 % 4096, 0u);
  start(*store);
  std::uint64_t bytes = 0;
  for (int i = 0; i < 3; ++i) {
    auto m = msg("count/" + std::to_string(i), std::string(1000, 'c'));
    bytes += m->topic.size() + encode_message(*m).size();
    store->save_retained(0, *m);
  }
  store->after_commit(0, [](bool) {});
  wait_posted(1);
  EXPECT_GE(c.commits.load(), 1u);
  EXPECT_EQ(c.writes.load(), 3u);
  EXPECT_EQ(c.bytes_written.load(), bytes);
  EXPECT_GT(c.map_used.load(), used0);
  EXPECT_GE(c.commit_us.load(), c.max_commit_us.load());
  store->save_retained(0, *msg("count/0", ""));  // a delete: a write, no bytes
  store->after_commit(0, [](bool) {});
  wait_posted(2);
  EXPECT_EQ(c.writes.load(), 4u);
  EXPECT_EQ(c.bytes_written.load(), bytes);
  EXPECT_EQ(c.lost.load(), 0u);
  EXPECT_EQ(c.failed_commits.load(), 0u);
  const std::uint64_t fsyncs = c.fsyncs.load();
  store->stop();
  EXPECT_GT(c.fsyncs.load(), fsyncs);  // stop syncs
}

TEST_F(StoreTest, UndecodableRecordsAreSkippedAndDeleted) {
  {
    auto store = open();
    load(*store);
    start(*store);
    store->save_retained(0, *msg("r/good", "ok"));
    store->stop();
  }
  {
    MDB_env* env = nullptr;
    ASSERT_EQ(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 8);
    ASSERT_EQ(mdb_env_open(env, (dir_ + "/store").c_str(), 0, 0640), 0);
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
    MDB_dbi dbi;
    ASSERT_EQ(mdb_dbi_open(txn, "retained", 0, &dbi), 0);
    MDB_val key{5, const_cast<char*>("r/bad")};
    MDB_val val{3, const_cast<char*>("\x01\x02\x03")};
    ASSERT_EQ(mdb_put(txn, dbi, &key, &val, 0), 0);
    ASSERT_EQ(mdb_dbi_open(txn, "sessions", 0, &dbi), 0);
    MDB_val skey{3, const_cast<char*>("bad")};
    MDB_val sval{1, const_cast<char*>("\x09")};
    ASSERT_EQ(mdb_put(txn, dbi, &skey, &sval, 0), 0);
    ASSERT_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
  }
  auto store = open();
  Loaded l = load(*store);
  EXPECT_EQ(l.stats.undecodable, 2u);
  ASSERT_EQ(l.retained.size(), 1u);
  EXPECT_EQ(l.retained[0]->topic, "r/good");
  EXPECT_TRUE(l.sessions.empty());
}

TEST_F(StoreTest, FullMapDropsPutsReportsUnstoredAndRecovers) {
  config_.store.map_size = config_.store.max_map_size = 1 << 20;
  auto store = open();
  load(*store);
  start(*store);
  int posted = 0;
  bool last = true;
  for (int i = 0; i < 40 && !store->full(); ++i) {
    store->save_retained(0, *msg("big/" + std::to_string(i), std::string(100000, 'b')));
    store->after_commit(0, [&](bool ok) { last = ok; });
    wait_posted(++posted);
  }
  EXPECT_TRUE(store->full());
  EXPECT_FALSE(last);
  EXPECT_GE(store->counters().failed_commits.load(), 1u);
  EXPECT_EQ(store->counters().lost.load(), 1u);  // the put that did not fit; full() refuses the rest upstream
  EXPECT_EQ(store->counters().map_size.load(), 1u << 20);
  for (int i = 0; i < 40; ++i) store->save_retained(0, *msg("big/" + std::to_string(i), ""));
  store->after_commit(0, [&](bool ok) { last = ok; });
  wait_posted(++posted);
  EXPECT_TRUE(last);
  EXPECT_FALSE(store->full());
  store->save_retained(0, *msg("small", "s"));
  store->after_commit(0, [&](bool ok) { last = ok; });
  wait_posted(++posted);
  EXPECT_TRUE(last);
}

// A put whose value the writer encodes (Op::encode, into the page LMDB
// reserves) stores exactly those bytes and counts them as written.
TEST_F(StoreTest, EncodedPutStoresWhatTheEncoderWrites) {
  auto store = open();
  load(*store);
  start(*store);
  const MDB_dbi dbi = store->env().outbox;
  Op put{Op::Kind::put, dbi, 0, "k", {}, {}, {}};
  put.object = std::make_shared<const std::string>("encoded by the writer");
  put.encoded_size = 21;
  put.encode = [](const void* o, char* out) {
    const auto& s = *static_cast<const std::string*>(o);
    std::memcpy(out, s.data(), s.size());
  };
  const std::uint64_t written = store->counters().bytes_written.load();
  store->push(0, std::move(put));
  store->after_commit(0, [](bool) {});
  wait_posted(1);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(store->env().env(), nullptr, MDB_RDONLY, &txn), MDB_SUCCESS);
  MDB_val k{1, const_cast<char*>("k")}, v;
  ASSERT_EQ(mdb_get(txn, dbi, &k, &v), MDB_SUCCESS);
  EXPECT_EQ(std::string_view(static_cast<const char*>(v.mv_data), v.mv_size), "encoded by the writer");
  mdb_txn_abort(txn);
  EXPECT_EQ(store->counters().bytes_written.load() - written, 1u + 21u);
}

// del_range and del_prefix delete exactly their keys, across many pages
// (one seek, then along the cursor), and nothing of the neighbours.
TEST_F(StoreTest, DeleteRangeAndPrefixTakeExactlyTheirKeys) {
  auto store = open();
  load(*store);
  start(*store);
  auto key = [](char log, std::uint64_t i) {
    std::string k{log, '\0'};
    for (int b = 7; b >= 0; --b) k.push_back(static_cast<char>((i >> (8 * b)) & 0xFF));
    return k;
  };
  const MDB_dbi dbi = store->env().outbox;
  for (std::uint64_t i = 0; i < 5000; ++i) {
    for (char log : {'a', 'b', 'c'}) store->push(0, Op{Op::Kind::put, dbi, 0, key(log, i), std::string(100, log), {}, {}});
  }
  store->push(0, Op{Op::Kind::del_range, dbi, 0, key('b', 100), key('b', 4000), {}, {}});
  store->push(0, Op{Op::Kind::del_prefix, dbi, 0, std::string{'c', '\0'}, {}, {}, {}});
  store->after_commit(0, [](bool) {});
  wait_posted(1);
  std::map<char, std::vector<std::uint64_t>> left;
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(store->env().env(), nullptr, MDB_RDONLY, &txn), MDB_SUCCESS);
  MDB_cursor* cur = nullptr;
  ASSERT_EQ(mdb_cursor_open(txn, dbi, &cur), MDB_SUCCESS);
  MDB_val k, v;
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    std::string_view kv(static_cast<const char*>(k.mv_data), k.mv_size);
    std::uint64_t i = 0;
    for (unsigned char c : kv.substr(2)) i = (i << 8) | c;
    left[kv[0]].push_back(i);
  }
  mdb_cursor_close(cur);
  mdb_txn_abort(txn);
  EXPECT_EQ(left['a'].size(), 5000u);
  EXPECT_EQ(left.count('c'), 0u);
  ASSERT_EQ(left['b'].size(), 5000u - 3900u);
  EXPECT_EQ(left['b'][99], 99u);
  EXPECT_EQ(left['b'][100], 4000u);
  store->stop();
}

// [store] write_queue_bytes: pushes past it make the writer `behind`
// until a commit takes it below half; waiters are called then, once.
TEST_F(StoreTest, WriterBehindUntilCaughtUp) {
  config_.store.write_queue_bytes = 1 << 20;
  auto store = open();
  load(*store);
  Writer& w = store->writer();
  const MDB_dbi dbi = store->env().outbox;
  int i = 0;
  while (!w.behind()) {  // the writer is not started: everything stays queued
    ASSERT_LT(i, 1000);
    std::string k = "k" + std::to_string(i++);
    store->push(0, Op{Op::Kind::put, dbi, 0, k, std::string(10000, 'x'), {}, {}});
  }
  EXPECT_GE(i, 100);  // 1 MiB of 10 kB values (and their ops)
  std::atomic<int> called{0};
  EXPECT_TRUE(w.when_caught_up([&] { ++called; }));
  EXPECT_EQ(called.load(), 0);
  start(*store);
  store->after_commit(0, [](bool) {});
  wait_posted(1);
  EXPECT_FALSE(w.behind());
  EXPECT_EQ(called.load(), 1);
  EXPECT_FALSE(w.when_caught_up([&] { ++called; }));  // not behind: not kept
  EXPECT_EQ(w.counters().behind.load(), 1u);
  EXPECT_EQ(w.pending_bytes(), 0u);
  store->stop();
  EXPECT_EQ(called.load(), 1);
}

// Pacing (writer.hpp): a put that nobody waits for does not wake a writer
// that is pacing, and must still be committed by the writer's next look —
// whether it comes while the writer is busy (pacing) or after it went idle
// (then it wakes the writer). No put may be left queued.
TEST_F(StoreTest, PutsNobodyWaitsForAreCommittedPacedOrIdle) {
  auto store = open();
  load(*store);
  start(*store);
  WriterCounters& c = store->counters();
  const MDB_dbi dbi = store->env().outbox;
  auto wait_writes = [&](std::uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (c.writes.load() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return c.writes.load();
  };
  std::uint64_t pushed = 0;
  for (int i = 0; i < 60; ++i) {
    // Every third round lets the writer go idle first (its look finds
    // nothing after kPace); the others push while it is still pacing.
    if (i % 3 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const int burst = 1 + i % 4;
    for (int j = 0; j < burst; ++j) {
      store->push(0, Op{Op::Kind::put, dbi, 0, "p" + std::to_string(pushed++), "v", {}, {}});
    }
    ASSERT_EQ(wait_writes(pushed), pushed) << "round " << i;
  }
  store->stop();
}

// Every key and value of `dbi`, in key order.
std::vector<std::pair<std::string, std::string>> dump(Store& store, MDB_dbi dbi) {
  std::vector<std::pair<std::string, std::string>> out;
  MDB_txn* txn = nullptr;
  EXPECT_EQ(mdb_txn_begin(store.env().env(), nullptr, MDB_RDONLY, &txn), MDB_SUCCESS);
  MDB_cursor* cur = nullptr;
  EXPECT_EQ(mdb_cursor_open(txn, dbi, &cur), MDB_SUCCESS);
  MDB_val k, v;
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    out.emplace_back(std::string(static_cast<const char*>(k.mv_data), k.mv_size),
                     std::string(static_cast<const char*>(v.mv_data), v.mv_size));
  }
  mdb_cursor_close(cur);
  mdb_txn_abort(txn);
  return out;
}

std::string key8(std::uint64_t i) {
  std::string k{'o', '\0'};
  for (int b = 7; b >= 0; --b) k.push_back(static_cast<char>((i >> (8 * b)) & 0xFF));
  return k;
}

// A put that a del_range applied after it in the same transaction removes
// (later on its queue, or on a later queue) is not written, nor encoded;
// one applied before it, or not covering it, is. The end state is what
// applying every op in order gives.
TEST_F(StoreTest, PutsThatALaterDeleteOfTheTransactionRemovesAreNotWritten) {
  auto store = open();
  load(*store);
  const MDB_dbi dbi = store->env().outbox;
  static std::atomic<int> encoded{0};
  encoded = 0;
  auto put = [&](std::uint64_t i, bool ordered = true) {
    Op op{Op::Kind::put, dbi, 0, key8(i), {}, {}, {}};
    op.object = std::make_shared<const std::string>("enc" + std::to_string(i));
    op.encoded_size = 4;
    op.encode = [](const void* o, char* out) {
      ++encoded;
      std::memcpy(out, static_cast<const std::string*>(o)->data(), 4);
    };
    op.ordered = ordered;
    return op;
  };
  // Pushed before the writer starts: one batch, one transaction. Queue 0
  // is applied before queue 1 (the bridges' queue).
  store->push(0, Op{Op::Kind::del_range, dbi, 0, key8(1), key8(2), {}, {}});
  store->push(0, put(1, false));  // after the delete of its key: written (an ordered put would go first)
  store->push(0, put(2));  // removed by queue 1's [2, 4)
  store->push(0, put(3));  // the same, then put again on queue 1
  store->push(0, Op{Op::Kind::put, dbi, 0, key8(5), "plain", {}, {}});  // removed by [5, 6)
  store->push(0, put(7));  // no delete covers it
  store->push(1, Op{Op::Kind::del_range, dbi, 0, key8(2), key8(4), {}, {}});
  store->push(1, Op{Op::Kind::put, dbi, 0, key8(3), "again", {}, {}});
  store->push(1, Op{Op::Kind::del_range, dbi, 0, key8(5), key8(6), {}, {}});
  store->after_commit(0, [](bool) {});
  start(*store);
  wait_posted(1);
  const std::vector<std::pair<std::string, std::string>> want = {
      {key8(1), "enc1"}, {key8(3), "again"}, {key8(7), "enc7"}};
  EXPECT_EQ(dump(*store, dbi), want);
  EXPECT_EQ(encoded.load(), 2);  // 1 and 7
  EXPECT_EQ(store->counters().cancelled.load(), 3u);  // 2, 3 (queue 0) and 5
  EXPECT_EQ(store->counters().commits.load(), 1u);
  store->stop();
}

// Ordered puts (Op::ordered) go first in key order and append at the end of
// the B-tree when their key is past its last one, and are put as usual
// otherwise: two queues whose keys interleave, an overwrite (the later
// queue's value stays), a key below one an unordered put wrote, and later
// transactions. Every key ends with its last value.
TEST_F(StoreTest, OrderedPutsStoreEveryKeyWhateverTheOrder) {
  auto store = open();
  load(*store);
  const MDB_dbi dbi = store->env().outbox;
  auto put = [&](std::uint64_t i, std::string v, bool ordered = true) {
    Op op{Op::Kind::put, dbi, 0, key8(i), std::move(v), {}, {}};
    op.ordered = ordered;
    return op;
  };
  std::map<std::string, std::string> want;
  auto push = [&](unsigned q, std::uint64_t i, std::string v, bool ordered = true) {
    want[key8(i)] = v;
    store->push(q, put(i, std::move(v), ordered));
  };
  for (std::uint64_t i = 100; i < 1100; ++i) push(0, i, "a" + std::to_string(i));  // appended, many pages
  push(0, 5000, "unordered", false);
  for (std::uint64_t i = 0; i < 100; ++i) push(1, i, "b" + std::to_string(i));  // below the last key
  push(1, 150, "overwritten");
  for (std::uint64_t i = 1100; i < 1200; ++i) push(1, i, "c" + std::to_string(i));
  for (std::uint64_t i = 2000; i < 2400; ++i) push(i % 2, i, "i" + std::to_string(i));  // interleaved
  store->after_commit(0, [](bool) {});
  start(*store);
  wait_posted(1);
  for (std::uint64_t i = 5001; i < 5100; ++i) push(0, i, "d" + std::to_string(i));  // appended again
  push(0, 1200, "e");  // below 5000, and out of order on its queue
  store->after_commit(0, [](bool) {});
  wait_posted(2);
  const std::vector<std::pair<std::string, std::string>> all(want.begin(), want.end());
  EXPECT_EQ(dump(*store, dbi), all);
  EXPECT_EQ(store->counters().cancelled.load(), 0u);
  store->stop();
}

}  // namespace
}  // namespace strata::store
