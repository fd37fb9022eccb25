#include "bridges/kafka/kafka_adapter.hpp"

#include <array>

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>

#include "bridges/bridge_config.hpp"
#include "bridges/kafka/kafka_errors.hpp"
#include "broker/util/log.hpp"

namespace strata::bridges::kafka {

namespace {

// Past this many Kafka topic names the cached handles are let go.
constexpr std::size_t kMaxTopics = 4096;
// An envelope buffer larger than this is not kept in a free slot.
constexpr std::size_t kKeepEnvelope = 4096;

void* slot_opaque(std::uint32_t i) { return reinterpret_cast<void*>(static_cast<std::uintptr_t>(i) + 1); }
std::uint32_t opaque_slot(void* p) { return static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(p) - 1); }

}  // namespace

rd_kafka_conf_t* make_conf(const std::vector<std::pair<std::string, std::string>>& props, std::string& error) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      error = err;
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  }
  return conf;
}

KafkaAdapter::KafkaAdapter(const BridgeConfig& bridge, KafkaOptions options)
    : bridge_(bridge), options_(std::move(options)), mapper_(options_, bridge.routes) {}

KafkaAdapter::~KafkaAdapter() {
  if (!stopped_) stop();
}

bool KafkaAdapter::create_producer() {
  std::string error;
  rd_kafka_conf_t* conf = make_conf(options_.rdkafka, error);
  if (!conf) {
    STRATA_ERROR("bridge") << bridge_.name << ": kafka configuration: " << error;
    return false;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, &KafkaAdapter::on_delivery);
  rd_kafka_conf_set_error_cb(conf, &KafkaAdapter::on_error);
  rd_kafka_conf_set_opaque(conf, this);
  char err[512];
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk_) {
    STRATA_ERROR("bridge") << bridge_.name << ": cannot create the kafka producer: " << err;
    rd_kafka_conf_destroy(conf);
    return false;
  }
  rd_kafka_queue_t* q = rd_kafka_queue_get_main(rk_);
  rd_kafka_queue_io_event_enable(q, pipe_[1], "1", 1);
  rd_kafka_queue_destroy(q);
  fatal_ = false;
  return true;
}

void KafkaAdapter::destroy_producer() {
  if (!rk_) return;
  rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING);
  rd_kafka_poll(rk_, 0);  // delivery reports of the purged messages free their slots
  forget_topics();
  rd_kafka_destroy(rk_);
  rk_ = nullptr;
  // Whatever was not reported is delivered again by the outbox.
  slots_.clear();
  free_ = 0;
}

void KafkaAdapter::forget_topics() {
  for (auto& [name, handle] : topics_) rd_kafka_topic_destroy(handle);
  topics_.clear();
  last_topic_ = nullptr;
  last_handle_ = nullptr;
}

rd_kafka_topic_t* KafkaAdapter::topic_handle(const std::string& name) {
  if (last_topic_ && *last_topic_ == name) return last_handle_;
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    if (topics_.size() >= kMaxTopics) forget_topics();
    rd_kafka_topic_t* handle = rd_kafka_topic_new(rk_, name.c_str(), nullptr);
    if (!handle) return nullptr;
    it = topics_.emplace(name, handle).first;
  }
  last_topic_ = &it->first;
  last_handle_ = it->second;
  return it->second;
}

std::uint32_t KafkaAdapter::take_slot() {
  if (free_ != 0) {
    std::uint32_t i = free_ - 1;
    free_ = slots_[i].next_free;
    return i;
  }
  slots_.emplace_back();
  return static_cast<std::uint32_t>(slots_.size() - 1);
}

void KafkaAdapter::free_slot(std::uint32_t i) {
  InFlight& f = slots_[i];
  f.record.reset();
  if (f.envelope.capacity() > kKeepEnvelope) std::string().swap(f.envelope);
  f.next_free = free_;
  free_ = i + 1;
}

void KafkaAdapter::start(const AdapterContext& ctx) {
  ctx_ = ctx;
  if (::pipe2(pipe_, O_NONBLOCK | O_CLOEXEC) != 0) {
    ctx_.events->failed("cannot create a pipe");
    return;
  }
  wake_ = std::make_unique<boost::asio::posix::stream_descriptor>(*ctx_.io, pipe_[0]);
  timer_ = std::make_unique<boost::asio::steady_timer>(*ctx_.io);
  ctx_.events->state(AdapterState::connecting);
  if (!create_producer()) {
    ctx_.events->state(AdapterState::disabled);
    return;
  }
  arm_wakeup();
  arm_timer();
  ctx_.events->ready(options_.window);
}

void KafkaAdapter::arm_wakeup() {
  wake_->async_read_some(boost::asio::buffer(wake_buf_), [this](boost::system::error_code ec, std::size_t) {
    if (ec || stopped_) return;
    poll();
    arm_wakeup();
  });
}

void KafkaAdapter::arm_timer() {
  timer_->expires_after(std::chrono::milliseconds(100));
  timer_->async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    poll();
    arm_timer();
  });
}

void KafkaAdapter::deliver(Batch batch) {
  for (auto& r : batch.records) pending_.push_back(std::move(r));
  produce_pending();
}

void KafkaAdapter::produce_pending() {
  const bool envelope = options_.value == ValueMode::envelope;
  while (rk_ && !pending_.empty() && !fatal_) {
    const Record& rec = *pending_.front();
    if (!mapper_.map(rec, scratch_)) {
      reject(rec.offset, "the kafka topic template gives an empty topic for '" + rec.topic + "'");
      pending_.pop_front();
      continue;
    }
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (rd_kafka_topic_t* rkt = topic_handle(scratch_.topic)) {
      const std::uint32_t slot = take_slot();
      InFlight& f = slots_[slot];
      const std::string* value = &rec.payload;
      if (envelope) {
        f.envelope.swap(scratch_.envelope);  // the slot keeps it; scratch_ gets the old buffer to reuse
        value = &f.envelope;
      }
      rd_kafka_headers_t* hdrs = nullptr;
      if (!scratch_.headers.empty()) {
        hdrs = rd_kafka_headers_new(scratch_.headers.size());
        for (const auto& [k, v] : scratch_.headers) {
          rd_kafka_header_add(hdrs, k.data(), static_cast<ssize_t>(k.size()), v.data(),
                              static_cast<ssize_t>(v.size()));
        }
      }
      // rd_kafka_produceva rather than the producev macros, whose type
      // checks are GNU statement expressions (refused by clang -Wpedantic).
      std::array<rd_kafka_vu_t, 6> vu{};
      vu[0].vtype = RD_KAFKA_VTYPE_RKT;
      vu[0].u.rkt = rkt;
      vu[1].vtype = RD_KAFKA_VTYPE_PARTITION;
      vu[1].u.i32 = RD_KAFKA_PARTITION_UA;
      vu[2].vtype = RD_KAFKA_VTYPE_VALUE;
      vu[2].u.mem.ptr = const_cast<char*>(value->data());
      vu[2].u.mem.size = value->size();
      vu[3].vtype = RD_KAFKA_VTYPE_KEY;
      vu[3].u.mem.ptr = scratch_.has_key ? scratch_.key.data() : nullptr;
      vu[3].u.mem.size = scratch_.has_key ? scratch_.key.size() : 0;
      vu[4].vtype = RD_KAFKA_VTYPE_HEADERS;
      vu[4].u.headers = hdrs;
      vu[5].vtype = RD_KAFKA_VTYPE_OPAQUE;
      vu[5].u.ptr = slot_opaque(slot);
      if (rd_kafka_error_t* e = rd_kafka_produceva(rk_, vu.data(), vu.size())) {
        err = rd_kafka_error_code(e);
        rd_kafka_error_destroy(e);
      } else {
        err = RD_KAFKA_RESP_ERR_NO_ERROR;
      }
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        f.record = std::move(pending_.front());  // its delivery report comes in a later poll()
        pending_.pop_front();
        continue;
      }
      if (hdrs) rd_kafka_headers_destroy(hdrs);
      free_slot(slot);
    } else {
      err = rd_kafka_last_error();
    }
    std::uint64_t offset = rec.offset;
    ErrorKind kind = classify(err);
    if (kind == ErrorKind::permanent) {
      reject(offset, std::string("kafka: ") + rd_kafka_err2str(err));
      pending_.pop_front();
      continue;
    }
    // The local queue is full, or something passing: produce the rest
    // after the next poll (delivery reports make room).
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      STRATA_WARN("bridge") << bridge_.name << ": kafka produce: " << rd_kafka_err2str(err) << "; retrying";
    }
    break;
  }
}

void KafkaAdapter::poll() {
  if (!rk_) return;
  rd_kafka_poll(rk_, 0);
  if (!confirmed_.empty()) {
    ctx_.events->confirmed(confirmed_);
    confirmed_.clear();
  }
  if (fatal_) {
    char reason[512];
    rd_kafka_resp_err_t err = rd_kafka_fatal_error(rk_, reason, sizeof reason);
    std::string why = std::string("kafka producer fatal error: ") + rd_kafka_err2name(err) + ": " + reason;
    STRATA_ERROR("bridge") << bridge_.name << ": " << why << "; rebuilding the producer";
    pending_.clear();
    destroy_producer();
    ctx_.events->failed(why);
    if (create_producer()) ctx_.events->ready(options_.window);
    return;
  }
  produce_pending();
}

void KafkaAdapter::reject(std::uint64_t offset, std::string reason) {
  ++rejected_;
  if (rejected_ <= 10 || rejected_ % 1000 == 0) {
    STRATA_WARN("bridge") << bridge_.name << ": offset " << offset << " to the dead letters: " << reason << " ("
                          << rejected_ << " so far)";
  }
  ctx_.events->rejected(offset, std::move(reason));
}

void KafkaAdapter::on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<KafkaAdapter*>(opaque);
  self->delivered(opaque_slot(m->_private), m->err);
}

void KafkaAdapter::delivered(std::uint32_t slot, rd_kafka_resp_err_t err) {
  if (slot >= slots_.size() || !slots_[slot].record) return;
  InFlight& f = slots_[slot];
  const std::uint64_t offset = f.record->offset;
  switch (classify(err)) {
    case ErrorKind::none:
      confirmed_.push_back(offset);
      if (!connected_) {
        connected_ = true;
        ctx_.events->state(AdapterState::connected);
      }
      break;
    case ErrorKind::permanent:
      reject(offset, std::string("kafka: ") + rd_kafka_err2str(err));
      break;
    case ErrorKind::purged: break;  // delivered again after failed()/ready()
    case ErrorKind::fatal: fatal_ = true; break;
    case ErrorKind::retry:
      STRATA_WARN("bridge") << bridge_.name << ": kafka delivery of offset " << offset << ": "
                            << rd_kafka_err2str(err) << "; producing it again";
      pending_.push_back(std::move(f.record));
      break;
  }
  free_slot(slot);
}

void KafkaAdapter::on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaAdapter*>(opaque);
  auto e = static_cast<rd_kafka_resp_err_t>(err);
  if (e == RD_KAFKA_RESP_ERR__FATAL) {
    self->fatal_ = true;
    return;
  }
  if (e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    if (self->connected_) {
      self->connected_ = false;
      self->ctx_.events->state(AdapterState::backing_off);
    }
  }
  (void)rk;
  STRATA_WARN("bridge") << self->bridge_.name << ": kafka: " << rd_kafka_err2name(e) << ": " << reason;
}

void KafkaAdapter::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (timer_) timer_->cancel();
  if (wake_) wake_->cancel();
  if (rk_) {
    // What Kafka has taken is confirmed before exit; the rest stays in the
    // outbox and is delivered again at the next start.
    rd_kafka_flush(rk_, 5000);
    if (!confirmed_.empty()) {
      ctx_.events->confirmed(confirmed_);
      confirmed_.clear();
    }
    destroy_producer();
  }
  wake_.reset();  // closes pipe_[0]
  if (pipe_[1] >= 0) ::close(pipe_[1]);
  pipe_[0] = pipe_[1] = -1;
  pending_.clear();
}

AdapterType kafka_adapter_type() {
  AdapterType t;
  t.name = "kafka";
  t.keys = kafka_keys();
  t.make = [](const BridgeConfig& bridge, const config::TableReader& r) -> std::unique_ptr<Adapter> {
    KafkaOptions o = read_kafka_options(r, bridge.namespaces);
    std::string error;
    rd_kafka_conf_t* conf = make_conf(o.rdkafka, error);
    if (!conf) {
      const toml::node* at = r.find("rdkafka");
      r.fail(at ? at->source() : r.table().source(), "bridge '" + bridge.name + "': " + error);
    }
    rd_kafka_conf_destroy(conf);
    return std::make_unique<KafkaAdapter>(bridge, std::move(o));
  };
  return t;
}

}  // namespace strata::bridges::kafka
