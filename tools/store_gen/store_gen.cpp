// strata_store_gen: fills a data directory's store with synthetic state, to
// measure start-up (docs/benchmarks.md). Not part of the test suite.
//
//   strata_store_gen DATA_DIR SESSIONS RETAINED [QUEUED_PER_SESSION]
//
// Each session is persistent (expiry 1 day) with two subscriptions
// (site/<n>/# and a shared one); each retained message is ~60 bytes on
// topic site/<n % 1000>/line/<n>/value. Writes go through the broker's own
// Store, in batches that wait for their commit.
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>

#include "broker/store/store.hpp"

using namespace strata;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: strata_store_gen DATA_DIR SESSIONS RETAINED [QUEUED_PER_SESSION]\n";
    return 2;
  }
  config::Config cfg;
  cfg.data_dir = argv[1];
  cfg.store.durability = config::Durability::none;
  const long sessions = std::atol(argv[2]);
  const long retained = std::atol(argv[3]);
  const long queued = argc > 4 ? std::atol(argv[4]) : 0;
  try {
    store::Store st(cfg, 1);
    st.load(0, [](store::LoadedSession&&) {}, [](router::MessagePtr) {});
    std::mutex mutex;
    std::condition_variable cv;
    long done = 0;
    st.start([&](unsigned, std::function<void()> fn) {
      fn();
      std::lock_guard lock(mutex);
      ++done;
      cv.notify_all();
    });
    long batches = 0;
    auto barrier = [&] {
      st.after_commit(0, [](bool ok) {
        if (!ok) std::cerr << "store full\n";
      });
      ++batches;
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return done >= batches; });
    };
    for (long i = 0; i < sessions; ++i) {
      auto h = std::make_shared<session::SessionHandle>("gen-client-" + std::to_string(i), i + 1, 0);
      session::Session s(h, protocol::Version::v5);
      s.expiry_interval = 86400;
      s.subscriptions["site/" + std::to_string(i % 1000) + "/#"] =
          session::StoredSubscription{{protocol::QoS::at_least_once, false, false, 0}, 0};
      s.subscriptions["$share/g" + std::to_string(i % 10) + "/alarms/#"] =
          session::StoredSubscription{{protocol::QoS::exactly_once, false, false, 0}, 0};
      st.save_session(0, s);
      for (long q = 0; q < queued; ++q) {
        auto m = router::Message::make("site/" + std::to_string(i % 1000) + "/queued", "{\"v\":" + std::to_string(q) + "}");
        m->qos = protocol::QoS::at_least_once;
        session::Delivery d{m, protocol::QoS::at_least_once, false, false, {}, {}, {}, 0, {}};
        st.save_delivery(0, s, d, store::DeliveryState::queued, 0);
      }
      if (i % 20000 == 19999) barrier();
    }
    for (long i = 0; i < retained; ++i) {
      auto m = router::Message::make("site/" + std::to_string(i % 1000) + "/line/" + std::to_string(i) + "/value",
                                     "{\"v\":" + std::to_string(i) + ",\"unit\":\"C\",\"q\":\"good\"}");
      m->qos = protocol::QoS::at_least_once;
      m->retain = true;
      st.save_retained(0, *m);
      if (i % 50000 == 49999) barrier();
    }
    barrier();
    st.stop();
  } catch (const std::exception& e) {
    std::cerr << "strata_store_gen: " << e.what() << "\n";
    return 1;
  }
  std::cout << "wrote " << sessions << " sessions (" << queued << " queued messages each) and " << retained
            << " retained messages to " << argv[1] << "\n";
  return 0;
}
