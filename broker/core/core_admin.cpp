// What the admin API asks of a core (core.hpp, "admin API"): snapshots of
// its sessions, kicking a client, clearing a retained message. Runs on this
// core's thread, posted there by broker/admin.
#include <algorithm>

#include "broker/core/broker.hpp"
#include "broker/core/client.hpp"
#include "broker/core/clock.hpp"
#include "broker/core/core.hpp"
#include "broker/session/session_log.hpp"
#include "broker/util/log.hpp"

namespace strata::core {

namespace {

// What the connection adds to its session's snapshot.
void add_connection(SessionInfo& i, const Client& c) {
  i.connected = true;
  i.address = c.remote_address();
  i.listener = c.listener_name();
  i.keep_alive = c.keep_alive();
  i.connected_at_ms = c.connected_at_ms();
  i.messages_received = c.messages_received();
  i.messages_sent = c.messages_sent();
  i.version = c.version();
  i.username = c.username();
}

// A bare session (Core::attach_bare): as a Session of expiry 0 that has
// held nothing.
SessionInfo info_of(const Client& c, unsigned core) {
  SessionInfo i;
  i.client_id = c.client_id();
  i.core = core;
  add_connection(i, c);
  return i;
}

SessionInfo info_of(const session::Session& s, unsigned core) {
  SessionInfo i;
  i.client_id = s.client_id();
  i.username = s.username;
  i.core = core;
  i.version = s.version;
  i.expiry_interval = s.expiry_interval;
  i.expires_at_ms = s.deadline_ms;
  i.persistent = s.stored;
  i.inflight = s.inflight_count();
  i.queued = s.queue().size();
  i.queued_bytes = s.queued_bytes();
  if (const session::SessionLog* log = s.handle()->log()) {  // a bridge session: its log on disk
    i.bridge_session = true;
    i.queued += log->queued_messages();
    i.queued_bytes += log->queued_bytes();
  }
  for (const auto& [filter, sub] : s.subscriptions) i.subscriptions.push_back({filter, sub.options, sub.identifier});
  // Client is the only Attachment.
  if (s.attachment) add_connection(i, *static_cast<const Client*>(s.attachment));
  return i;
}

// One session of a list: a Session, or the connection of a bare one.
struct Listed {
  const session::Session* session = nullptr;
  const Client* bare = nullptr;
  const std::string& client_id() const noexcept { return session ? session->client_id() : bare->client_id(); }
  SessionInfo info(unsigned core) const { return session ? info_of(*session, core) : info_of(*bare, core); }
};

}  // namespace

template <class Fn>
void Core::for_each_session(Fn&& fn) const {
  for (const auto& [h, ls] : sessions_) fn(Listed{ls.session.get(), nullptr});
  for (const auto& [p, c] : clients_) {
    if (c.client->bare()) fn(Listed{nullptr, c.client.get()});
  }
}

std::vector<SessionInfo> Core::inspect_sessions(const std::string* client_id) const {
  std::vector<SessionInfo> out;
  out.reserve(client_id ? 1 : sessions_.size());
  for_each_session([&](const Listed& l) {
    if (client_id && l.client_id() != *client_id) return;
    out.push_back(l.info(index_));
  });
  return out;
}

SessionPage Core::inspect_sessions(const SessionFilter& filter, std::size_t keep) const {
  std::vector<Listed> hits;
  for_each_session([&](const Listed& l) {
    const session::Session* s = l.session;
    // Client is the only Attachment.
    const Client* c = s ? static_cast<const Client*>(s->attachment) : l.bare;
    SessionBrief b{l.client_id(), c ? c->username() : std::string_view(s->username), c != nullptr, c ? c->version() : s->version,
                   c ? c->remote_address() : std::string_view()};
    if (filter(b)) hits.push_back(l);
  });
  SessionPage page;
  page.matched = hits.size();
  auto by_id = [](const Listed& a, const Listed& b) { return a.client_id() < b.client_id(); };
  if (keep < hits.size()) {
    std::nth_element(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(keep), hits.end(), by_id);
    hits.resize(keep);
  }
  std::sort(hits.begin(), hits.end(), by_id);
  page.items.reserve(hits.size());
  for (const Listed& l : hits) page.items.push_back(l.info(index_));
  return page;
}

Client* Core::find_bare(const std::string& client_id) const {
  for (const auto& [p, c] : clients_) {
    if (c.client->bare() && c.client->client_id() == client_id) return c.client.get();
  }
  return nullptr;
}

bool Core::kick(const std::string& client_id, bool end) {
  // A bare session has expiry 0: it ends with its connection either way.
  Client* connection = find_bare(client_id);
  if (connection == nullptr) {
    auto it = std::find_if(sessions_.begin(), sessions_.end(),
                           [&](const auto& e) { return e.second.session->client_id() == client_id; });
    if (it == sessions_.end()) return false;
    LocalSession& ls = it->second;
    session::Session& s = *ls.session;
    if (s.attachment == nullptr) {
      if (end) {
        cancel_timers(ls);
        end_session(s);
      }
      return true;
    }
    // Ending: the session goes when the connection does (expiry 0).
    if (end) s.expiry_interval = 0;
    connection = static_cast<Client*>(s.attachment);  // Client is the only Attachment
  }
  std::shared_ptr<Client> client = connection->shared_from_this();  // disconnect() may drop the core's
  client->disconnect(protocol::ReasonCode::administrative_action, "disconnected by an administrator");
  return true;
}

void Core::clear_retained(const std::string& topic) {
  auto msg = router::Message::make(topic, {});
  msg->retain = true;
  retained_.set(msg);  // an empty payload deletes
  broker_.store().save_retained(index_, *msg);
  broker_.post_to_cores(index_, [msg](Core& c) { c.retained_.set(msg); });
}

std::optional<protocol::ReasonCode> Core::admin_subscribe(const std::string& client_id, const std::string& filter,
                                                          const protocol::SubscribeOptions& options) {
  // A bare session gets its Session from the subscription.
  if (Client* bare = find_bare(client_id)) return bare->subscribe_for_admin(filter, options);
  for (auto& [h, ls] : sessions_) {
    session::Session& s = *ls.session;
    if (s.client_id() != client_id) continue;
    if (s.attachment) return static_cast<Client*>(s.attachment)->subscribe_for_admin(filter, options);
    // Offline: the broker's limits, the ACL as the session's user; retained
    // messages are queued like any delivery to an offline session.
    auth::ClientInfo who{s.client_id(), s.username, ""};
    SubscribeCheck r = subscribe_session(s, who, broker_.limits(), filter, options, 0);
    if (!r.granted) return r.reason;
    if (s.stored) broker_.store().save_session(index_, s);
    if (r.send_retained) {
      std::vector<router::MessagePtr> found;
      retained_.match(filter, now_ms(), found);
      for (router::MessagePtr& m : found) {
        if (r.check_read && !broker_.authorizer().can_read(who, m->topic)) continue;
        session::Delivery d;
        d.qos = std::min(m->qos, r.options.max_qos);
        d.retain = true;
        d.msg = std::move(m);
        if (session::SessionLog* log = s.handle()->log()) {  // a bridge session queues in its log
          log->accept(std::move(d), index_, true);
          continue;
        }
        enqueue(s, std::move(d));
      }
    }
    return r.reason;
  }
  return std::nullopt;
}

std::optional<bool> Core::admin_unsubscribe(const std::string& client_id, const std::string& filter) {
  if (find_bare(client_id) != nullptr) return false;  // subscribed to nothing
  for (auto& [h, ls] : sessions_) {
    session::Session& s = *ls.session;
    if (s.client_id() != client_id) continue;
    if (s.attachment) return static_cast<Client*>(s.attachment)->unsubscribe_for_admin(filter);
    auto it = s.subscriptions.find(filter);
    if (it == s.subscriptions.end()) return false;
    s.subscriptions.erase(it);
    bool existed = false;
    unsubscribe_everywhere(filter, s.handle(), existed);
    if (s.stored) broker_.store().save_session(index_, s);
    return true;
  }
  return std::nullopt;
}

}  // namespace strata::core
