#include "broker/historian/replayer.hpp"

#include <algorithm>
#include <cmath>

#include <boost/asio/post.hpp>

#include "broker/historian/history_store.hpp"
#include "broker/router/topic.hpp"
#include "broker/store/records.hpp"
#include "broker/util/log.hpp"

namespace strata::historian {

namespace {

std::string_view view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

std::int64_t time_of_key(std::string_view key) {
  std::uint64_t t = 0;
  for (std::size_t i = 0; i < 8 && i < key.size(); ++i) t = (t << 8) | static_cast<std::uint8_t>(key[i]);
  return static_cast<std::int64_t>(t);
}

struct Cursor {
  MDB_cursor* c = nullptr;
  ~Cursor() {
    if (c) mdb_cursor_close(c);
  }
};

// Where a scan of the raw log stopped.
enum class ScanEnd : std::uint8_t {
  more,  // the budget ran out: go on next step
  wait,  // reached records too recent to be sure of (or the log's end before `to`)
  end,   // reached `to` (or the log's end, with `to` settled)
};

// Reads the raw log after `after` (from raw_key(from, 0) when empty), at
// most `max_scan` records; calls pick(key, bytes) for each record with a
// receive time in [from, to) until it returns false (then the record is not
// counted as passed). `last` is the key of the last record passed.
template <class Pick>
ScanEnd scan(MDB_txn* txn, MDB_dbi raw, const std::string& after, std::int64_t from, std::int64_t to,
             std::int64_t settled, unsigned max_scan, std::string& last, Pick pick) {
  Cursor cur;
  if (int rc = mdb_cursor_open(txn, raw, &cur.c); rc != MDB_SUCCESS) store::check(rc, "hist_raw cursor");
  std::string start = after.empty() ? raw_key(from, 0) : after;
  MDB_val k{start.size(), start.data()}, v;
  int rc = mdb_cursor_get(cur.c, &k, &v, MDB_SET_RANGE);
  if (rc == MDB_SUCCESS && !after.empty() && view(k) == after) rc = mdb_cursor_get(cur.c, &k, &v, MDB_NEXT);
  for (unsigned n = 0; n < max_scan; ++n) {
    if (rc == MDB_NOTFOUND) return settled >= to ? ScanEnd::end : ScanEnd::wait;
    if (rc != MDB_SUCCESS) store::check(rc, "hist_raw read");
    const std::int64_t t = time_of_key(view(k));
    if (t >= to) return ScanEnd::end;
    if (t >= settled) return ScanEnd::wait;
    if (t >= from && !pick(view(k), view(v), t)) return ScanEnd::more;
    last.assign(view(k));
    rc = mdb_cursor_get(cur.c, &k, &v, MDB_NEXT);
  }
  return ScanEnd::more;
}

}  // namespace

Replayer::Replayer(store::Store& store, HistoryStore& history, ReplayTargets& targets, NowFn now)
    : store_(store), history_(history), targets_(targets), now_(std::move(now)) {
  jobs_dbi_ = history.dbs().replay;
  raw_dbi_ = history.dbs().raw;
  store::ReadTxn txn(store_.env());
  Cursor cur;
  store::check(mdb_cursor_open(txn.get(), jobs_dbi_, &cur.c), "hist_replay cursor");
  MDB_val k, v;
  const std::int64_t now_ms = now_();
  for (int rc = mdb_cursor_get(cur.c, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
       rc = mdb_cursor_get(cur.c, &k, &v, MDB_NEXT)) {
    auto id = job_id_of_key(view(k));
    ReplayJob job;
    if (!id || !decode_job(*id, view(v), job)) {
      STRATA_WARN("historian") << "a stored replay job does not decode; ignored";
      continue;
    }
    next_id_ = std::max(next_id_, *id + 1);
    Entry e;
    e.job = std::move(job);
    e.run.started_ms = now_ms;
    e.run.sent_at_start = e.job.sent;
    if (e.job.state == JobState::running) {
      STRATA_INFO("historian") << "replay " << e.job.id << " resumes (" << e.job.sent << " sent)";
    }
    jobs_.emplace(*id, std::move(e));
  }
}

Replayer::~Replayer() { stop(); }

void Replayer::start() {
  schedule();
  thread_ = std::thread([this] { io_.run(); });
}

void Replayer::stop() {
  if (stopped_.exchange(true)) return;
  boost::asio::post(io_, [this] { timer_.cancel(); });
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

void Replayer::schedule() {
  timer_.expires_after(std::chrono::milliseconds(kTickMs));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_.load()) return;
    tick();
    schedule();
  });
}

void Replayer::tick() {
  std::vector<std::uint64_t> running;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, e] : jobs_) {
      if (e.job.state == JobState::running) running.push_back(id);
    }
  }
  for (std::uint64_t id : running) {
    try {
      count_step(id);
      step(id);
    } catch (const std::exception& ex) {
      fail(id, ex.what());
    }
  }
}

void Replayer::fail(std::uint64_t id, const std::string& why) {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.job.state != JobState::running) return;
  ReplayJob& j = it->second.job;
  j.state = JobState::failed;
  j.error = why;
  j.updated_ms = now_();
  persist(j);
  STRATA_WARN("historian") << "replay " << id << " failed: " << why;
}

void Replayer::count_step(std::uint64_t id) {
  ReplayRequest req;
  std::string pos;
  {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.run.counted) return;
    req = it->second.job.request;
    pos = it->second.run.count_pos;
  }
  std::uint64_t n = 0;
  ScanEnd end;
  {
    store::ReadTxn txn(store_.env());
    const std::string after = pos;
    end = scan(txn.get(), raw_dbi_, after, req.from, req.to, now_() - kSettleMs, 2 * kScan, pos,
               [&](std::string_view, std::string_view bytes, std::int64_t) {
                 auto m = store::decode_message(bytes);
                 if (m && router::topic_matches(req.filter, m->topic)) ++n;
                 return true;
               });
  }
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  it->second.run.total += n;
  it->second.run.count_pos = pos;
  it->second.run.counted = end == ScanEnd::end;
}

void Replayer::step(std::uint64_t id) {
  ReplayRequest req;
  std::string position;
  std::size_t budget = 0;
  const std::int64_t now = now_();
  {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.job.state != JobState::running) return;
    Entry& e = it->second;
    req = e.job.request;
    position = e.job.position;
    if (!targets_.has_bridge(req.bridge)) {
      e.job.state = JobState::failed;
      e.job.error = "bridge '" + req.bridge + "' is not configured";
      e.job.updated_ms = now;
      persist(e.job);
      STRATA_WARN("historian") << "replay " << id << " failed: " << e.job.error;
      return;
    }
    const std::uint64_t queued = targets_.queued(req.bridge);
    const std::uint64_t window = queued >= kWindow ? 0 : kWindow - queued;
    budget = static_cast<std::size_t>(std::min<std::uint64_t>(kBatch, window));
    if (req.rate != 0) {
      // Tokens at `rate`, at most two ticks' worth (and one message) saved up.
      const double elapsed = e.run.last_step_ms == 0 ? kTickMs : static_cast<double>(now - e.run.last_step_ms);
      const double cap = std::max(1.0, req.rate * 2.0 * kTickMs / 1000.0);
      e.run.tokens = std::min(cap, e.run.tokens + req.rate * std::max(0.0, elapsed) / 1000.0);
      budget = std::min(budget, static_cast<std::size_t>(std::floor(e.run.tokens)));
    }
    e.run.last_step_ms = now;
    if (budget == 0) return;
  }

  struct Picked {
    std::string key;
    std::int64_t t = 0;
    std::shared_ptr<router::Message> msg;
  };
  std::vector<Picked> picked;
  std::string passed = position;  // the last key scanned
  ScanEnd end;
  {
    // Short: at most kScan records, then the transaction is closed before
    // anything is offered.
    store::ReadTxn txn(store_.env());
    end = scan(txn.get(), raw_dbi_, position, req.from, req.to, now - kSettleMs, kScan, passed,
               [&](std::string_view key, std::string_view bytes, std::int64_t t) {
                 auto m = store::decode_message(bytes);
                 if (!m || !router::topic_matches(req.filter, m->topic)) return true;
                 if (picked.size() >= budget) return false;
                 picked.push_back(Picked{std::string(key), t, std::move(m)});
                 return true;
               });
  }

  std::lock_guard lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.job.state != JobState::running) return;  // cancelled meanwhile
  Entry& e = it->second;
  const std::string id_text = std::to_string(id);
  const unsigned queue = store_.bridge_queue();
  std::size_t offered = 0;
  bool refused = false;
  for (Picked& p : picked) {
    router::Message& m = *p.msg;
    m.retain = false;
    m.expires_at_ms = 0;
    protocol::UserProperties& up = m.properties.edit().user_properties;
    up.emplace_back("strata-replay", id_text);
    up.emplace_back("strata-time", std::to_string(p.t));
    const ReplayTargets::Offer o = targets_.offer(req.bridge, m, queue);
    if (o == ReplayTargets::Offer::full) {
      refused = true;
      break;
    }
    (o == ReplayTargets::Offer::queued ? e.job.sent : e.job.skipped) += 1;
    e.job.position = p.key;
    ++offered;
  }
  if (req.rate != 0) e.run.tokens = std::max(0.0, e.run.tokens - static_cast<double>(offered));
  // Every pick offered: the position moves past what the scan passed over
  // (records out of the filter) too.
  if (!refused) e.job.position = passed;
  const bool moved = offered != 0 || e.job.position != position;
  if (!refused && end == ScanEnd::end) {
    e.job.state = JobState::done;
    STRATA_INFO("historian") << "replay " << id << " done: " << e.job.sent << " sent to " << req.bridge
                             << (e.job.skipped != 0 ? ", " + std::to_string(e.job.skipped) + " refused by the bridge"
                                                    : std::string());
  }
  if (moved || e.job.state != JobState::running) {
    e.job.updated_ms = now;
    persist(e.job);  // after the appends, on the same writer queue
  }
}

void Replayer::persist(const ReplayJob& job) {
  store_.push(store_.bridge_queue(),
              store::Op{store::Op::Kind::put, jobs_dbi_, 0, job_key(job.id), encode_job(job), {}, {}});
}

void Replayer::prune_finished() {
  std::size_t finished = 0;
  for (const auto& [id, e] : jobs_) finished += e.job.state != JobState::running ? 1 : 0;
  for (auto it = jobs_.begin(); it != jobs_.end() && finished > kKeepFinished;) {
    if (it->second.job.state == JobState::running) {
      ++it;
      continue;
    }
    // On the queue of the job's own puts: deleted after its last one.
    store_.push(store_.bridge_queue(), store::Op{store::Op::Kind::del, jobs_dbi_, 0, job_key(it->first), {}, {}, {}});
    it = jobs_.erase(it);
    --finished;
  }
}

ReplayStatus Replayer::status_of(const Entry& e) const {
  ReplayStatus s;
  s.job = e.job;
  s.total = std::max(e.run.total, e.job.sent + e.job.skipped);
  s.total_exact = e.run.counted;
  if (e.job.state == JobState::done) {
    s.total = e.job.sent + e.job.skipped;
    s.total_exact = true;
  }
  const std::int64_t now = now_();
  const std::int64_t end = e.job.state == JobState::running ? now : e.job.updated_ms;
  const std::uint64_t sent = e.job.sent - std::min(e.job.sent, e.run.sent_at_start);
  if (end > e.run.started_ms && sent != 0) {
    s.rate = static_cast<double>(sent) * 1000.0 / static_cast<double>(end - e.run.started_ms);
  }
  if (e.job.state == JobState::running) {
    const std::uint64_t left = s.total - std::min(s.total, e.job.sent + e.job.skipped);
    if (left != 0 || s.total_exact) s.eta_s = eta_seconds(left, s.rate);  // else: not counted yet
  } else if (e.job.state == JobState::done) {
    s.eta_s = 0.0;
  }
  if (e.job.position.size() == 16) s.position_ms = time_of_key(e.job.position);
  return s;
}

std::optional<ReplayStatus> Replayer::create(const ReplayRequest& request, int& status, std::string& error) {
  if (!history_.settings().record_payloads) {
    status = 400;
    error = "[historian] record_payloads is off: there are no recorded messages to replay";
    return std::nullopt;
  }
  if (!targets_.has_bridge(request.bridge)) {
    status = 404;
    error = "no bridge '" + request.bridge + "'";
    return std::nullopt;
  }
  std::lock_guard lock(mutex_);
  Entry e;
  e.job.id = next_id_++;
  e.job.request = request;
  e.job.created_ms = e.job.updated_ms = now_();
  e.run.started_ms = e.job.created_ms;
  persist(e.job);
  prune_finished();
  auto [it, added] = jobs_.emplace(e.job.id, std::move(e));
  STRATA_INFO("historian") << "replay " << it->first << ": " << request.filter << " [" << request.from << ", "
                           << request.to << ") to bridge " << request.bridge
                           << (request.rate != 0 ? " at " + std::to_string(request.rate) + " messages/s"
                                                 : std::string(" at line rate"));
  return status_of(it->second);
}

std::vector<ReplayStatus> Replayer::list() const {
  std::lock_guard lock(mutex_);
  std::vector<ReplayStatus> out;
  out.reserve(jobs_.size());
  for (const auto& [id, e] : jobs_) out.push_back(status_of(e));
  return out;
}

std::optional<ReplayStatus> Replayer::get(std::uint64_t id) const {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return status_of(it->second);
}

Replayer::Cancel Replayer::cancel(std::uint64_t id, ReplayStatus& out) {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return Cancel::not_found;
  Entry& e = it->second;
  if (e.job.state != JobState::running) {
    out = status_of(e);
    return Cancel::finished;
  }
  e.job.state = JobState::cancelled;
  e.job.updated_ms = now_();
  persist(e.job);
  out = status_of(e);
  return Cancel::cancelled;
}

}  // namespace strata::historian
