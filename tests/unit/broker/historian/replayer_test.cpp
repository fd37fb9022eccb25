// Replay jobs on a real store (LMDB, the writer thread, the historian's raw
// log) with a target that records what it is offered and can refuse
// (a full outbox): the range in time order and marked, nothing outside it,
// waiting while the target is full, cancel, and resuming from the stored
// position after the store is closed and opened again.
#include "broker/historian/replayer.hpp"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "broker/historian/history_store.hpp"

namespace strata::historian {
namespace {

constexpr std::int64_t T0 = 1796540400000;  // receive times T0 + i
constexpr std::int64_t kNow = T0 + 3'600'000;  // the replayer's clock: everything settled

class RecordingTargets : public ReplayTargets {
 public:
  bool has_bridge(std::string_view b) const override { return b == "up"; }
  std::uint64_t queued(std::string_view) const override { return 0; }
  Offer offer(std::string_view, const router::Message& m, unsigned) override {
    std::lock_guard lock(mutex);
    if (room == 0) return Offer::full;
    --room;
    offered.emplace_back(m);
    return Offer::queued;
  }
  std::vector<router::MessageDraft> take() {
    std::lock_guard lock(mutex);
    return offered;
  }
  void set_room(std::size_t n) {
    std::lock_guard lock(mutex);
    room = n;
  }
  std::mutex mutex;
  std::vector<router::MessageDraft> offered;
  std::size_t room = static_cast<std::size_t>(-1);
};

std::string prop(const router::MessageAttributes& m, const std::string& key) {
  for (const auto& [k, v] : m.properties->user_properties) {
    if (k == key) return v;
  }
  return {};
}

class ReplayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/strata-replayer-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    config_.data_dir = dir_;
    open();
  }
  void TearDown() override {
    close();
    std::filesystem::remove_all(dir_);
  }
  void open() {
    store_ = std::make_unique<store::Store>(config_, 1);
    settings_.enabled = true;
    settings_.filters = {"#"};
    history_ = std::make_unique<HistoryStore>(store_->env(), HistoryDbs::open(store_->env()), settings_,
                                              [] { return kNow; });
    store_->writer().set_client(history_.get());
    replayer_ = std::make_unique<Replayer>(*store_, *history_, targets_, [] { return kNow; });
    store_->start([this](unsigned, std::function<void()> fn) {
      fn();
      std::lock_guard lock(mutex_);
      ++committed_;
      cv_.notify_all();
    });
  }
  void close() {
    if (replayer_) replayer_->stop();
    replayer_.reset();
    if (store_) store_->stop();
    store_.reset();
    history_.reset();
  }
  // Records topic i: payload "i" at T0 + i, for each i in `indices`; returns once committed.
  void record(const std::vector<std::pair<std::string, int>>& messages) {
    for (const auto& [topic, i] : messages) {
      auto m = router::Message::make(topic, std::to_string(i));
      m->qos = protocol::QoS::at_least_once;
      m->retain = true;
      store::Op op;
      op.kind = store::Op::Kind::client;
      op.msg = m;
      op.stamp = T0 + i;
      store_->writer().push(0, std::move(op));
    }
    int before;
    {
      std::lock_guard lock(mutex_);
      before = committed_;
    }
    store_->after_commit(0, [](bool) {});
    std::unique_lock lock(mutex_);
    ASSERT_TRUE(cv_.wait_for(lock, std::chrono::seconds(10), [&] { return committed_ > before; }));
  }
  template <class Pred>
  void wait_for(Pred pred, const char* what) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!pred()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "timed out waiting for " << what;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ReplayStatus create(ReplayRequest r) {
    int status = 0;
    std::string error;
    auto s = replayer_->create(r, status, error);
    EXPECT_TRUE(s) << error;
    return s.value_or(ReplayStatus{});
  }
  std::vector<int> payloads(const std::vector<router::MessageDraft>& ms) {
    std::vector<int> out;
    for (const auto& m : ms) out.push_back(std::stoi(m.payload));
    return out;
  }

  std::string dir_;
  config::Config config_;
  HistorianConfig settings_;
  RecordingTargets targets_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<HistoryStore> history_;
  std::unique_ptr<Replayer> replayer_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int committed_ = 0;
};

TEST_F(ReplayerTest, ReplaysTheRangeOfTheFilterInTimeOrderMarked) {
  std::vector<std::pair<std::string, int>> msgs;
  for (int i = 0; i < 30; ++i) msgs.emplace_back(i % 3 == 0 ? "other/x" : "plant/a", i);
  record(msgs);
  replayer_->start();
  ReplayStatus s = create({"plant/#", T0 + 5, T0 + 25, "up", 0});
  EXPECT_EQ(s.job.state, JobState::running);
  wait_for([&] { return replayer_->get(s.job.id)->job.state == JobState::done; }, "done");
  std::vector<int> want;
  for (int i = 5; i < 25; ++i) {
    if (i % 3 != 0) want.push_back(i);
  }
  auto got = targets_.take();
  EXPECT_EQ(payloads(got), want);
  for (const auto& m : got) {
    EXPECT_EQ(prop(m, "strata-replay"), std::to_string(s.job.id));
    EXPECT_EQ(prop(m, "strata-time"), std::to_string(T0 + std::stoi(m.payload)));
    EXPECT_FALSE(m.retain);
  }
  ReplayStatus done = *replayer_->get(s.job.id);
  EXPECT_EQ(done.job.sent, want.size());
  EXPECT_EQ(done.total, want.size());
  EXPECT_TRUE(done.total_exact);
  EXPECT_EQ(done.eta_s, 0.0);
}

TEST_F(ReplayerTest, WaitsWhileTheTargetIsFullAndSkipsNothing) {
  std::vector<std::pair<std::string, int>> msgs;
  for (int i = 0; i < 40; ++i) msgs.emplace_back("plant/a", i);
  record(msgs);
  targets_.set_room(7);
  replayer_->start();
  ReplayStatus s = create({"plant/a", T0, T0 + 40, "up", 0});
  wait_for([&] { return replayer_->get(s.job.id)->job.sent == 7; }, "7 sent");
  EXPECT_EQ(replayer_->get(s.job.id)->job.state, JobState::running);
  targets_.set_room(static_cast<std::size_t>(-1));
  wait_for([&] { return replayer_->get(s.job.id)->job.state == JobState::done; }, "done");
  std::vector<int> want(40);
  for (int i = 0; i < 40; ++i) want[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(payloads(targets_.take()), want);
}

TEST_F(ReplayerTest, CancelStopsTheJob) {
  std::vector<std::pair<std::string, int>> msgs;
  for (int i = 0; i < 40; ++i) msgs.emplace_back("plant/a", i);
  record(msgs);
  targets_.set_room(5);
  replayer_->start();
  ReplayStatus s = create({"plant/a", T0, T0 + 40, "up", 0});
  wait_for([&] { return replayer_->get(s.job.id)->job.sent == 5; }, "5 sent");
  ReplayStatus out;
  EXPECT_EQ(replayer_->cancel(s.job.id, out), Replayer::Cancel::cancelled);
  EXPECT_EQ(out.job.state, JobState::cancelled);
  targets_.set_room(static_cast<std::size_t>(-1));
  // A second job finishing means the replayer ran steps with room again:
  // none of them offered anything of the cancelled job.
  ReplayStatus barrier = create({"plant/a", T0 + 39, T0 + 40, "up", 0});
  wait_for([&] { return replayer_->get(barrier.job.id)->job.state == JobState::done; }, "second job done");
  EXPECT_EQ(payloads(targets_.take()), (std::vector<int>{0, 1, 2, 3, 4, 39}));
  EXPECT_EQ(replayer_->get(s.job.id)->job.sent, 5u);
  EXPECT_EQ(replayer_->cancel(s.job.id, out), Replayer::Cancel::finished);
  EXPECT_EQ(replayer_->cancel(999, out), Replayer::Cancel::not_found);
}

TEST_F(ReplayerTest, ResumesFromTheStoredPositionAfterReopen) {
  std::vector<std::pair<std::string, int>> msgs;
  for (int i = 0; i < 50; ++i) msgs.emplace_back("plant/a", i);
  record(msgs);
  targets_.set_room(12);
  replayer_->start();
  ReplayStatus s = create({"plant/#", T0 + 10, T0 + 50, "up", 0});
  wait_for([&] { return replayer_->get(s.job.id)->job.sent == 12; }, "12 sent");
  close();  // the writer commits what was pushed, the job record included
  targets_.set_room(static_cast<std::size_t>(-1));
  open();
  ReplayStatus back = *replayer_->get(s.job.id);
  EXPECT_EQ(back.job.state, JobState::running);
  EXPECT_EQ(back.job.sent, 12u);
  EXPECT_EQ(back.job.position, raw_key(T0 + 21, 21));
  replayer_->start();
  wait_for([&] { return replayer_->get(s.job.id)->job.state == JobState::done; }, "done after reopen");
  std::vector<int> want;
  for (int i = 10; i < 50; ++i) want.push_back(i);
  EXPECT_EQ(payloads(targets_.take()), want);  // each once: a clean stop re-sends nothing
  EXPECT_EQ(replayer_->get(s.job.id)->job.sent, 40u);
  // A new job gets the next id.
  EXPECT_EQ(create({"plant/#", T0, T0 + 1, "up", 0}).job.id, s.job.id + 1);
}

TEST_F(ReplayerTest, KeepsTheNewestFinishedJobsOnly) {
  record({{"plant/a", 0}});
  targets_.set_room(0);  // nothing is sent: every job stays running until cancelled
  replayer_->start();
  constexpr std::size_t keep = Replayer::kKeepFinished;
  ReplayStatus out;
  for (std::size_t i = 0; i <= keep; ++i) {
    ReplayStatus s = create({"plant/a", T0, T0 + 1, "up", 0});
    ASSERT_EQ(replayer_->cancel(s.job.id, out), Replayer::Cancel::cancelled);
  }
  ReplayStatus running = create({"plant/a", T0, T0 + 1, "up", 0});  // the first finished job goes
  auto ids = [&] {
    std::vector<std::uint64_t> out;
    for (const auto& s : replayer_->list()) out.push_back(s.job.id);
    return out;
  };
  std::vector<std::uint64_t> want;
  for (std::uint64_t id = 2; id <= running.job.id; ++id) want.push_back(id);
  EXPECT_EQ(ids(), want);
  EXPECT_FALSE(replayer_->get(1));
  // Running jobs are never pruned, however many finished ones there are.
  EXPECT_EQ(replayer_->get(running.job.id)->job.state, JobState::running);
  // Gone from the store too, and the ids go on after the newest.
  close();
  open();
  EXPECT_EQ(ids(), want);
  EXPECT_EQ(create({"plant/a", T0, T0 + 1, "up", 0}).job.id, running.job.id + 1);
}

TEST_F(ReplayerTest, RefusesUnknownBridgesAndMissingPayloads) {
  int status = 0;
  std::string error;
  EXPECT_FALSE(replayer_->create({"#", 1, 2, "down", 0}, status, error));
  EXPECT_EQ(status, 404);
  EXPECT_EQ(error, "no bridge 'down'");
  HistorianConfig off = settings_;
  off.record_payloads = false;
  history_->set_settings(off);
  EXPECT_FALSE(replayer_->create({"#", 1, 2, "up", 0}, status, error));
  EXPECT_EQ(status, 400);
  EXPECT_EQ(error, "[historian] record_payloads is off: there are no recorded messages to replay");
}

}  // namespace
}  // namespace strata::historian
