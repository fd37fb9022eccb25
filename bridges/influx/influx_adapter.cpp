#include "bridges/influx/influx_adapter.hpp"

#include "bridges/bridge_config.hpp"
#include "broker/util/log.hpp"

namespace strata::bridges::influx {

InfluxAdapter::InfluxAdapter(const BridgeConfig& bridge, InfluxOptions options)
    : bridge_(bridge),
      options_(std::move(options)),
      mapper_(options_.mapper),
      path_(write_path(options_.url, options_.target)),
      authorization_(authorization(options_.target)),
      batcher_(options_.batch),
      backoff_(options_.retry_min, options_.retry_max) {}

InfluxAdapter::~InfluxAdapter() {
  if (!stopped_) stop();
}

void InfluxAdapter::set_state(AdapterState s) {
  if (s == state_) return;
  state_ = s;
  ctx_.events->state(s);
}

void InfluxAdapter::start(const AdapterContext& ctx) {
  ctx_ = ctx;
  if (options_.url.tls) {
    tls_ = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
    tls_->set_verify_mode(boost::asio::ssl::verify_peer);
    boost::system::error_code ec;
    if (options_.ca_file.empty()) {
      tls_->set_default_verify_paths(ec);
    } else {
      tls_->load_verify_file(options_.ca_file, ec);
    }
    if (ec) {
      STRATA_ERROR("bridge") << bridge_.name << ": TLS trust store: " << ec.message();
    }
  }
  client_ = std::make_unique<HttpClient>(*ctx_.io, options_.url, options_.timeout, tls_.get());
  batch_timer_ = std::make_unique<boost::asio::steady_timer>(*ctx_.io);
  retry_timer_ = std::make_unique<boost::asio::steady_timer>(*ctx_.io);
  ctx_.events->state(AdapterState::connecting);
  ctx_.events->ready(options_.window);
}

std::vector<std::pair<std::string_view, std::uint64_t>> InfluxAdapter::skipped() const {
  std::vector<std::pair<std::string_view, std::uint64_t>> out;
  for (MapResult r : {MapResult::not_mappable, MapResult::no_fields, MapResult::no_measurement, MapResult::bad_timestamp}) {
    out.emplace_back(to_string(r), skipped(r));
  }
  return out;
}

void InfluxAdapter::deliver(Batch batch) {
  if (stopped_) return;
  auto now = Batcher::Clock::now();
  for (const RecordPtr& rec : batch.records) {
    line_.clear();
    MapResult result = mapper_.map(rec->topic, rec->payload, static_cast<std::int64_t>(rec->received_ms), line_);
    if (result != MapResult::line) {
      std::uint64_t n = ++skipped_[static_cast<int>(result)];
      if (n == 1 || n % 10000 == 0) {
        STRATA_WARN("bridge") << bridge_.name << ": '" << rec->topic << "' gives no point (" << to_string(result)
                              << "); skipped, " << n << " so far";
      }
      confirmed_.push_back(rec->offset);
      continue;
    }
    if (batcher_.would_overflow(line_.size())) close_batch();
    if (batcher_.add(line_, rec->offset, now)) close_batch();
  }
  if (!confirmed_.empty()) {
    ctx_.events->confirmed(confirmed_);
    confirmed_.clear();
  }
  if (!batcher_.empty()) arm_batch_timer();
  write_next();
}

void InfluxAdapter::close_batch() {
  if (batcher_.empty()) return;
  writes_.push_back(batcher_.take());
}

void InfluxAdapter::arm_batch_timer() {
  if (batch_timer_armed_) return;
  batch_timer_armed_ = true;
  batch_timer_->expires_at(batcher_.deadline());
  batch_timer_->async_wait([this](boost::system::error_code ec) {
    batch_timer_armed_ = false;
    if (ec || stopped_) return;
    if (batcher_.due(Batcher::Clock::now())) {
      close_batch();
      write_next();
    } else if (!batcher_.empty()) {
      arm_batch_timer();
    }
  });
}

void InfluxAdapter::write_next() {
  if (writing_ || stopped_ || writes_.empty()) return;
  writing_ = true;
  client_->post(path_, authorization_, writes_.front().body, [this](WriteAnswer a) { on_answer(std::move(a)); });
}

void InfluxAdapter::wait_then_write(std::chrono::milliseconds delay) {
  retry_timer_->expires_after(delay);
  retry_timer_->async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    writing_ = false;
    write_next();
  });
}

void InfluxAdapter::on_answer(WriteAnswer answer) {
  if (stopped_) return;
  LineBatch& front = writes_.front();
  WriteVerdict v = classify(answer, front);
  switch (v.action) {
    case WriteAction::ack:
      ctx_.events->confirmed(front.offsets);
      batcher_.recycle(std::move(front));
      writes_.pop_front();
      break;
    case WriteAction::split:
    case WriteAction::bisect: {
      STRATA_DEBUG("bridge") << bridge_.name << ": " << to_string(v.action) << " a write of " << front.size()
                             << " lines: " << v.reason;
      std::size_t half = front.size() / 2;
      LineBatch first = front.part(0, half), second = front.part(half, front.size());
      writes_.pop_front();
      writes_.push_front(std::move(second));
      writes_.push_front(std::move(first));
      break;
    }
    case WriteAction::reject: {
      STRATA_WARN("bridge") << bridge_.name << ": " << v.rejected.size() << " of " << front.size()
                            << " lines refused, to the dead letters: " << v.reason;
      std::size_t k = 0;
      for (std::size_t i = 0; i < front.size(); ++i) {
        if (k < v.rejected.size() && v.rejected[k] == i) {
          ctx_.events->rejected(front.offsets[i], v.reason);
          ++k;
        } else {
          confirmed_.push_back(front.offsets[i]);
        }
      }
      ctx_.events->confirmed(confirmed_);
      confirmed_.clear();
      writes_.pop_front();
      break;
    }
    case WriteAction::pause:
      STRATA_ERROR("bridge") << bridge_.name << ": paused: " << v.reason << " (" << options_.url_text
                             << "); the data is kept, trying again every " << options_.retry_max.count() << " ms";
      set_state(AdapterState::paused);
      wait_then_write(options_.retry_max);
      return;
    case WriteAction::retry: {
      auto delay = backoff_.next(std::uniform_real_distribution<double>(0, 1)(jitter_));
      if (v.retry_after && *v.retry_after > delay) delay = std::min(*v.retry_after, options_.retry_max);
      if (state_ != AdapterState::backing_off) {
        STRATA_WARN("bridge") << bridge_.name << ": write failed: " << v.reason << "; retrying";
      }
      set_state(AdapterState::backing_off);
      wait_then_write(delay);
      return;
    }
  }
  backoff_.reset();
  set_state(AdapterState::connected);
  writing_ = false;
  write_next();
}

void InfluxAdapter::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (batch_timer_) batch_timer_->cancel();
  if (retry_timer_) retry_timer_->cancel();
  if (client_) client_->close();
  // What was not written stays in the outbox, unconfirmed, and is delivered
  // again at the next start. writes_ is kept until the adapter goes: the
  // request in progress was sent from its front.
}

AdapterType influx_adapter_type() {
  AdapterType t;
  t.name = "influx";
  t.keys = influx_keys();
  t.make = [](const BridgeConfig& bridge, const config::TableReader& r) -> std::unique_ptr<Adapter> {
    return std::make_unique<InfluxAdapter>(bridge, read_influx_options(r, bridge.namespaces));
  };
  return t;
}

}  // namespace strata::bridges::influx
