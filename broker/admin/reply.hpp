// Reply: how a handler answers, now or later, from any thread.
//
// A handler gets a Reply by value and calls send() (or json()/error())
// exactly once: at once, or after gathering answers from the cores (see
// Api::gather), from whatever thread it is on. The server writes the
// answer on the admin thread. Copies share one state: the first answer
// wins, later ones are ignored. If every copy is dropped unanswered, the
// client gets a 500, so a forgotten path cannot hang a connection.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "broker/admin/http.hpp"

namespace strata::admin {

class Reply {
 public:
  // Where the answer goes; called once, on any thread.
  using Sink = std::function<void(Response)>;
  explicit Reply(Sink sink) : state_(std::make_shared<State>(std::move(sink))) {}

  void send(Response r) const { state_->answer(std::move(r)); }
  // A JSON body (already serialized) with `status`.
  void json(std::string body, http::status status = http::status::ok) const {
    Response r;
    r.status = status;
    r.body = std::move(body);
    send(std::move(r));
  }
  void error(const Error& e) const { send(error_response(e)); }
  void error(http::status status, std::string_view code, std::string_view message) const {
    send(error_response(status, code, message));
  }
  bool answered() const noexcept { return state_->done.load(std::memory_order_acquire); }

 private:
  struct State {
    explicit State(Sink s) : sink(std::move(s)) {}
    ~State() {
      if (!done.load(std::memory_order_acquire) && sink) {
        sink(error_response(http::status::internal_server_error, "INTERNAL_ERROR", "the handler did not answer"));
      }
    }
    void answer(Response r) {
      if (done.exchange(true, std::memory_order_acq_rel)) return;
      sink(std::move(r));
    }
    Sink sink;
    std::atomic<bool> done{false};
  };
  std::shared_ptr<State> state_;
};

// A route's handler. Runs on the admin thread; must not block (post work
// to the cores with Api::gather and answer from the callback).
using Handler = std::function<void(const Request&, Reply)>;

}  // namespace strata::admin
