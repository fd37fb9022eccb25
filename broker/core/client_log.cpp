// Client: the outgoing side of a bridge session ([[bridge_session]];
// broker/session/session_log.hpp), whose queue is a log on disk.
//
// The connection reads the log from its cursor in offset order and sends
// what it reads within the inflight window, like pump_queue() does with
// the session's queue; each inflight Delivery carries its record's offset
// in `seq`. PUBACK (QoS 1), PUBCOMP or an error PUBREC (QoS 2) confirm the
// offset; the log's acknowledged offset follows the contiguous prefix. QoS 0
// records are sent and confirmed at once; they take no window, so reading
// waits while the socket has max_outgoing_bytes/messages to write.
//
// Reconnect in the same process: the session's inflight messages are sent
// again with DUP (resend_inflight), and reading goes on from the cursor.
// After a restart the cursor starts at the acknowledged offset, so every
// record not confirmed is sent again (at least once; the receiver sees the
// duplicates), except the QoS 2 records whose PUBREC had arrived: the store
// kept those as inflight (client_publish.cpp, on PUBREC), they get a PUBREL
// and are skipped when the cursor passes them.
#include <algorithm>

#include <boost/asio/post.hpp>

#include "broker/core/broker.hpp"
#include "broker/core/client.hpp"
#include "broker/core/core.hpp"
#include "broker/session/session_log.hpp"

namespace strata::core {

using protocol::QoS;
using session::Delivery;

void Client::attach_log(bool session_present) {
  bridge_log_ = true;
  session::SessionLog& log = this->log();
  log.set_username(std::string(username_.view()));
  if (active_) active_->log_inflight.clear();
  if (!session_present) {
    log.reset();
  } else {
    for (const session::Outgoing& o : session_->inflight()) {
      if (o.delivery.seq != 0) active().log_inflight.push_back(o.delivery.seq);
    }
  }
  std::weak_ptr<Client> weak = shared_from_this();
  boost::asio::io_context& io = core_.io();
  log.set_reader([weak, &io] {
    boost::asio::post(io, [weak] {
      if (auto self = weak.lock()) self->pump_log();
    });
  });
  // Nothing resumed: start sending what the log holds.
  if (!session_present) pump_log();
}

void Client::pump_log() {
  if (session_ == nullptr || !bridge_log_) return;
  while (state_ == State::connected) {
    // The window's count and bytes, checked per read: a read batch may go
    // past the byte bound by what it holds.
    if (!window_open(0)) return;
    const std::size_t inflight = session_->inflight_count();
    const std::size_t window = send_window();
    // QoS 0 records take no window: what was written must go out first,
    // as for a slow consumer's QoS 0 (client_publish.cpp), but nothing is lost.
    if (outgoing_full()) {
      log_write_wait_ = true;
      return;
    }
    std::vector<session::SessionLog::Entry> got = log().read(std::min<std::size_t>(window - inflight, 1024));
    if (got.empty()) return;  // the log calls set_reader's notify when there is more
    for (session::SessionLog::Entry& e : got) {
      if (active_ && !active_->log_inflight.empty()) {
        auto it = std::find(active().log_inflight.begin(), active().log_inflight.end(), e.offset);
        if (it != active().log_inflight.end()) {  // inflight already (restored): its PUBREL went out
          active().log_inflight.erase(it);
          continue;
        }
      }
      Delivery d;
      d.msg = std::move(e.msg);
      d.qos = e.qos;
      d.retain = e.retain;
      d.seq = e.offset;
      if (d.qos == QoS::at_most_once) {
        send_publish(d, 0, false);
        log().confirm(e.offset);
        continue;
      }
      auto id = session_->next_packet_id();
      if (!id) {  // cannot happen below the window; confirm rather than lose the cursor
        log().confirm(e.offset);
        continue;
      }
      session::Outgoing& o = session_->add_inflight(*id, std::move(d));
      send_publish(o.delivery, *id, false);
      if (state_ != State::connected || session_ == nullptr) return;
    }
  }
}

void Client::finish_logged(const session::Outgoing& done) {
  // A QoS 2 record that had its PUBREC is also a delivery record of the
  // session (saved then, to survive a restart): remove it too.
  if (done.delivery.qos == QoS::exactly_once || done.state == session::Outgoing::State::await_pubcomp) {
    core_.broker().store().drop_delivery(core_.index(), *session_, done.delivery);
  }
  if (done.delivery.seq != 0) log().confirm(done.delivery.seq);
}

// handle_ does not change once the session is attached, and a handle's
// log is fixed when it is made.
session::SessionLog& Client::log() const noexcept { return *handle_->log(); }

}  // namespace strata::core
