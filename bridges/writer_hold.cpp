#include "bridges/writer_hold.hpp"

#include "broker/store/store.hpp"

namespace strata::bridges {

WriterHold::~WriterHold() = default;

void WriterHold::keep(session::Backlog::Charge&& charge) {
  if (!charge.charged() || !store_.writer().behind()) return;  // given back when `charge` goes
  {
    std::lock_guard lock(mutex_);
    kept_.push_back(std::move(charge));
    if (waiting_) return;
    waiting_ = true;
  }
  // Caught up meanwhile: nobody would call release().
  if (!store_.writer().when_caught_up([this] { release(); })) release();
}

void WriterHold::release() {
  std::vector<session::Backlog::Charge> given;
  {
    std::lock_guard lock(mutex_);
    given.swap(kept_);
    waiting_ = false;
  }
  // `given` goes here, outside the lock: each charge's release may wake
  // the publishers waiting on its backlog.
}

}  // namespace strata::bridges
