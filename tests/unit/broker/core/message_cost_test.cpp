// The per-message cost as a number that does not depend on timing: heap
// allocations (calls of the global operator new) on the broker's core
// thread per delivered message, compared with the baseline checked in as
// message_cost_baseline.txt. The check fails when a scenario needs more
// than 10 % more allocations per message than its baseline (see
// docs/benchmarks.md, "Allocations per message", to update it).
//
// A real Broker runs in this process with one core; the test talks to it
// over loopback TCP with hand-made MQTT 5 packets from its own thread. Each
// message is published only after the previous one arrived, so every
// message is handled alone (nothing batches) and the count per message is
// the same on a fast and on a busy machine. Only the core thread's
// allocations are counted (the store's thread and the test's own are not);
// the smallest of several rounds is taken, so that a timer firing during a
// round (periodic work of the core) cannot add to the figure.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include "broker/config/config.hpp"
#include "broker/core/broker.hpp"
#include "broker/core/core.hpp"
#include "tests/unit/broker/core/tcp_segments.hpp"

// --- counting operator new -------------------------------------------------

namespace {
thread_local bool t_counted = false;  // set on the broker's core thread
std::atomic<std::uint64_t> g_allocations{0};

void* counted_alloc(std::size_t n) {
  if (t_counted) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  if (void* p = std::malloc(n)) return p;
  throw std::bad_alloc();
}
void* counted_alloc_aligned(std::size_t n, std::align_val_t al) {
  if (t_counted) g_allocations.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(al);
  if (void* p = std::aligned_alloc(a, (std::max<std::size_t>(n, 1) + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc_aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc_aligned(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace strata::core {
namespace {

// --- a blocking MQTT 5 client --------------------------------------------

std::string varint(std::size_t n) {
  std::string s;
  do {
    auto b = static_cast<char>(n % 128);
    n /= 128;
    if (n > 0) b = static_cast<char>(b | 0x80);
    s += b;
  } while (n > 0);
  return s;
}
std::string u16(std::size_t n) { return {static_cast<char>(n >> 8), static_cast<char>(n & 0xFF)}; }
std::string str(const std::string& s) { return u16(s.size()) + s; }
std::string packet(std::uint8_t first, const std::string& body) {
  return std::string(1, static_cast<char>(first)) + varint(body.size()) + body;
}

class Conn {
 public:
  explicit Conn(std::uint16_t port) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) break;
      ::close(fd_);
      fd_ = -1;
      if (std::chrono::steady_clock::now() > deadline) return;  // ok() says so
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{30, 0};  // a broker that stops answering fails the test
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool ok() const { return fd_ >= 0; }
  // TCP data segments this socket has received.
  std::uint32_t data_segments_in() const { return test::tcp_data_segments_in(fd_); }
  long unacked_segments() const { return test::tcp_unacked_segments(fd_); }
  bool send(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  // Reads exactly n bytes into buf (no allocation).
  bool read(char* buf, std::size_t n) {
    std::size_t off = 0;
    while (off < n) {
      ssize_t r = ::recv(fd_, buf + off, n - off, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      off += static_cast<std::size_t>(r);
    }
    return true;
  }
  // Reads one whole packet; its first byte and size.
  bool read_packet(std::uint8_t& first, std::size_t& size) {
    char b = 0;
    if (!read(&b, 1)) return false;
    first = static_cast<std::uint8_t>(b);
    std::size_t len = 0;
    for (int shift = 0;; shift += 7) {
      if (!read(&b, 1)) return false;
      len |= static_cast<std::size_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) break;
    }
    if (len > sizeof buf_) return false;
    size = len;
    return read(buf_, len);
  }
  const char* body() const { return buf_; }

 private:
  int fd_ = -1;
  char buf_[4096];
};

bool mqtt_connect(Conn& c, const std::string& id) {
  // MQTT 5, clean start, keep alive 0 (no timer), no properties.
  std::string body = str("MQTT") + '\x05' + '\x02' + u16(0) + '\x00' + str(id);
  if (!c.send(packet(0x10, body))) return false;
  std::uint8_t first = 0;
  std::size_t n = 0;
  return c.read_packet(first, n) && first == 0x20 && n >= 2 && c.body()[1] == 0;
}

bool mqtt_subscribe(Conn& c, const std::string& filter, int qos) {
  std::string body = u16(1) + '\x00' + str(filter) + static_cast<char>(qos);
  if (!c.send(packet(0x82, body))) return false;
  std::uint8_t first = 0;
  std::size_t n = 0;
  return c.read_packet(first, n) && first == 0x90 && n == 4 && c.body()[3] == static_cast<char>(qos);
}

std::map<std::string, double> read_baseline() {
  std::map<std::string, double> out;
  std::ifstream in(STRATA_MESSAGE_COST_BASELINE);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string name;
    double v = 0;
    if (ls >> name >> v) out[name] = v;
  }
  return out;
}

// The broker in this process, one core, no persistence of clean sessions,
// no $SYS (no periodic publishing).
class MessageCost : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("strata-message-cost-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::string toml = "[broker]\nthreads = 1\nlog_level = \"warn\"\ndata_dir = \"" + dir_.string() +
                       "\"\n[[listener]]\nurl = \"tcp://127.0.0.1:1883\"\n[sys]\ninterval = 0\n";
    config::Config config = config::load_string(toml, "message_cost.toml");
    // Port 0 (which a config file cannot say): the kernel picks a free port
    // when the broker binds, and the broker says which. A port picked
    // beforehand could be taken by someone else meanwhile.
    config.listeners.at(0).port = 0;
    broker_ = std::make_unique<Broker>(std::move(config), "");
    auto port = bound_.get_future();
    // Runs on the core once run() has opened the listeners.
    boost::asio::post(broker_->core(0).io(), [this] {
      t_counted = true;
      bound_.set_value(broker_->listener_port(0));
    });
    thread_ = std::thread([this] {
      try {
        broker_->run();
      } catch (const std::exception&) {
        try {
          bound_.set_exception(std::current_exception());
        } catch (const std::future_error&) {  // it failed after it was listening: measure() says so
        }
      }
    });
    try {
      port_ = port.get();
    } catch (const std::exception& e) {
      failed_ = e.what();
    }
  }
  void TearDown() override {
    broker_->stop();
    thread_.join();
    broker_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Allocations per message on the core thread: the fewest over `rounds`
  // rounds of `per_round` messages, after `warmup` messages.
  double measure(int qos) {
    Conn sub(port_), pub(port_);
    if (!sub.ok() || !pub.ok()) {
      ADD_FAILURE() << "cannot connect to the broker: " << failed_;
      return 0;
    }
    EXPECT_TRUE(mqtt_connect(sub, "cost-sub"));
    EXPECT_TRUE(mqtt_subscribe(sub, "plant/#", qos));
    EXPECT_TRUE(mqtt_connect(pub, "cost-pub"));
    // 64-byte payload, packet id 1 (QoS 1: acknowledged before the next).
    std::string payload(64, 'x');
    std::string publish = qos == 0 ? packet(0x30, str("plant/line1/temp") + '\x00' + payload)
                                   : packet(0x32, str("plant/line1/temp") + u16(1) + '\x00' + payload);
    constexpr int warmup = 500, per_round = 1000, rounds = 5;
    std::uint64_t best = ~std::uint64_t{0};
    std::uint16_t next_id = 0;
    for (int r = -1; r < rounds; ++r) {
      const int n = r < 0 ? warmup : per_round;
      const std::uint64_t before = g_allocations.load();
      for (int i = 0; i < n; ++i) {
        if (!one_message(qos, pub, sub, publish, next_id)) {
          ADD_FAILURE() << "message " << i << " of round " << r << " was not delivered";
          return 0;
        }
      }
      if (r >= 0) best = std::min(best, g_allocations.load() - before);
    }
    return static_cast<double>(best) / per_round;
  }

  // Publishes one message and waits until the subscriber has it (and,
  // QoS 1, both acknowledgements were taken).
  static bool one_message(int qos, Conn& pub, Conn& sub, const std::string& publish, std::uint16_t& next_id) {
    if (!pub.send(publish)) return false;
    std::uint8_t first = 0;
    std::size_t n = 0;
    if (qos == 1) {
      if (!pub.read_packet(first, n) || first != 0x40) return false;  // PUBACK
    }
    if (!sub.read_packet(first, n) || (first & 0xF0) != 0x30) return false;
    if (qos == 1) {
      // The packet id follows the topic: 2-byte length + topic.
      const auto tlen = static_cast<std::size_t>(static_cast<unsigned char>(sub.body()[0]) << 8 |
                                                 static_cast<unsigned char>(sub.body()[1]));
      next_id = static_cast<std::uint16_t>(static_cast<unsigned char>(sub.body()[2 + tlen]) << 8 |
                                           static_cast<unsigned char>(sub.body()[3 + tlen]));
      char ack[4] = {0x40, 2, static_cast<char>(next_id >> 8), static_cast<char>(next_id & 0xFF)};
      // PINGREQ after the PUBACK: its PINGRESP says the broker has taken
      // the PUBACK, so the next message finds the same state every time
      // (the count does not depend on which socket the broker reads first).
      const char ping[2] = {static_cast<char>(0xC0), 0};
      if (!sub.send(std::string(ack, 4) + std::string(ping, 2))) return false;
      if (!sub.read_packet(first, n) || first != 0xD0) return false;  // PINGRESP
    }
    return true;
  }

  void check(const std::string& name, double measured) {
    auto baseline = read_baseline();
    ASSERT_TRUE(baseline.contains(name)) << "no baseline for " << name << " in " << STRATA_MESSAGE_COST_BASELINE;
    const double limit = baseline[name] * 1.10 + 0.05;
    std::cout << "[ message cost ] " << name << ": " << measured << " allocations per message (baseline "
              << baseline[name] << ", limit " << limit << ")\n";
    EXPECT_LE(measured, limit) << name << ": allocations per message regressed more than 10 % over the baseline "
                               << baseline[name] << " (docs/benchmarks.md, \"Allocations per message\")";
  }

  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Broker> broker_;
  std::thread thread_;
  std::promise<std::uint16_t> bound_;
  std::string failed_;
};

// Messages that one batch of the core's poller routes to one subscriber
// leave in one write (Client::flush): here, one TCP segment. The core is
// held while eight publishers each send a message, so that it reads all
// eight in one batch; before writes were gathered, the first message went
// out alone and the other seven in a second write.
TEST_F(MessageCost, ABatchRoutedToOneSubscriberLeavesInOneWrite) {
  constexpr int publishers = 8;
  Conn sub(port_);
  ASSERT_TRUE(sub.ok()) << "cannot connect to the broker: " << failed_;
  ASSERT_TRUE(mqtt_connect(sub, "batch-sub"));
  ASSERT_TRUE(mqtt_subscribe(sub, "plant/#", 0));
  std::vector<std::unique_ptr<Conn>> pubs;
  for (int i = 0; i < publishers; ++i) {
    pubs.push_back(std::make_unique<Conn>(port_));
    ASSERT_TRUE(pubs.back()->ok());
    ASSERT_TRUE(mqtt_connect(*pubs.back(), "batch-pub-" + std::to_string(i)));
  }
  std::promise<void> held, release;
  auto released = release.get_future().share();
  boost::asio::post(broker_->core(0).io(), [&held, released] {
    held.set_value();
    released.wait();
  });
  held.get_future().wait();
  const std::uint32_t before = sub.data_segments_in();
  for (int i = 0; i < publishers; ++i) {
    ASSERT_TRUE(pubs[static_cast<std::size_t>(i)]->send(
        packet(0x30, str("plant/line" + std::to_string(i) + "/temp") + '\x00' + "v" + std::to_string(i))));
  }
  // Every message in the broker's sockets before the core reads (loopback
  // delivers in the sender's context, unless a busy machine defers that to
  // ksoftirqd): the broker's kernel acknowledges them without the core,
  // at the latest when its delayed ACK fires.
  for (const auto& pub : pubs) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (pub->unacked_segments() != 0) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the broker's socket never acknowledged the publish";
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  release.set_value();
  std::set<std::string> topics, expected;
  for (int i = 0; i < publishers; ++i) {
    std::uint8_t first = 0;
    std::size_t n = 0;
    ASSERT_TRUE(sub.read_packet(first, n)) << "message " << i;
    EXPECT_EQ(first, 0x30);
    topics.insert(std::string(sub.body() + 2, 16));  // after the topic's 2-byte length
    expected.insert("plant/line" + std::to_string(i) + "/temp");
  }
  EXPECT_EQ(topics, expected);
  EXPECT_EQ(sub.data_segments_in() - before, 1u);
}

TEST_F(MessageCost, Qos0FanInAllocationsPerMessage) { check("qos0_fanin", measure(0)); }

TEST_F(MessageCost, Qos1FanInAllocationsPerMessage) { check("qos1_fanin", measure(1)); }

}  // namespace
}  // namespace strata::core
