// Client: CONNECT — validation, limits negotiation, claiming the client id,
// taking over or resuming the session, CONNACK. See client.hpp.
#include <random>
#include <utility>

#include <boost/asio/post.hpp>

#include "broker/core/broker.hpp"
#include "broker/core/client.hpp"
#include "broker/core/core.hpp"
#include "broker/router/topic.hpp"
#include "broker/util/log.hpp"

namespace strata::core {

namespace asio = boost::asio;
using protocol::QoS;
using protocol::ReasonCode;
using protocol::Version;
using session::Session;

void Client::refuse_connect(ReasonCode reason, std::string_view text) {
  notice_ = notice_for(reason);
  if (reason == ReasonCode::bad_user_name_or_password || reason == ReasonCode::not_authorized ||
      reason == ReasonCode::banned || reason == ReasonCode::bad_authentication_method) {
    core_.stats().add(core_.stats().auth_failures);
  }
  protocol::Connack ack{false, reason, {}};
  if (version_ == Version::v5 && !text.empty() && problem_info_) {
    ack.properties.reason_string = std::string(text);
  }
  send(ack);
  STRATA_INFO("client") << stream_->remote_address() << ": CONNECT refused: "
                        << protocol::to_string(reason) << (text.empty() ? "" : " (")
                        << text << (text.empty() ? "" : ")");
  close_after_flush();
}

protocol::Connect Client::take_pending_connect() {
  std::unique_ptr<Pending>& pending = io_->pending;  // set: io_ is there
  protocol::Connect c = std::move(std::get<protocol::Connect>(*pending));
  pending.reset();
  return c;
}

std::string Client::make_client_id() const {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string id = "strata-";
  std::uint64_t r = rng();
  for (int i = 0; i < 16; ++i, r >>= 4) id += hex[r & 0xF];
  return id;
}

void Client::on_connect(protocol::Connect&& c) {
  const config::Limits& limits = limits_;
  version_ = c.version;
  state_ = State::connecting;
  const protocol::Properties& props = c.properties;
  if (version_ == Version::v5) {
    client_receive_max_ = props.receive_maximum.value_or(65535);
    client_max_packet_ = props.maximum_packet_size.value_or(0);
    client_alias_max_ = props.topic_alias_maximum.value_or(0);
    problem_info_ = props.request_problem_information.value_or(1) == 1;
  }

  if (over_quota_) {
    return refuse_connect(ReasonCode::quota_exceeded, "connection limit reached");
  }

  // Client identifier (spec 3.1.3.1).
  if (c.client_id.empty()) {
    if (version_ == Version::v311 && !c.clean_start) {
      return refuse_connect(ReasonCode::client_identifier_not_valid,
                            "an empty client id needs clean session");
    }
    if (!limits.allow_empty_client_id) {
      return refuse_connect(ReasonCode::client_identifier_not_valid, "a client id is required");
    }
    c.client_id = make_client_id();
    assigned_client_id_ = true;
  } else if (c.client_id.size() > limits.max_client_id_length) {
    return refuse_connect(ReasonCode::client_identifier_not_valid, "client id too long");
  }
  if (props.authentication_method) {
    // Enhanced authentication (spec 4.12): AUTH packets before CONNACK,
    // see client_auth.cpp; it continues with accept_connect.
    return begin_connect_auth(std::move(c));
  }
  if (ClientHooks* hooks = core_.broker().client_hooks()) {
    // Plugins answer first (client_hooks.hpp), possibly later from their
    // own thread: input waits (state connecting) until on_hooks_auth, and
    // the connect timeout bounds the wait (on_deadline).
    std::unique_ptr<Pending>& pending = io().pending;
    pending = std::make_unique<Pending>(std::move(c));
    const protocol::Connect& pc = std::get<protocol::Connect>(*pending);
    ClientView who = view();
    who.client_id = pc.client_id;
    who.username = {};
    std::optional<std::string_view> user, password;
    if (pc.username) user = *pc.username;
    if (pc.password) password = *pc.password;
    hooks_auth_pending_ = true;
    std::weak_ptr<Client> weak = shared_from_this();
    asio::io_context& io = core_.io();
    hooks->authenticate(who, user, password, core_.index(), [weak, &io](ClientHooks::Answer answer) {
      asio::post(io, [weak, answer] {
        if (auto client = weak.lock()) client->on_hooks_auth(answer);
      });
    });
    return;
  }
  authenticate_builtin(std::move(c));
}

void Client::on_hooks_auth(ClientHooks::Answer answer) {
  if (!hooks_auth_pending_ || state_ != State::connecting) return;  // closed meanwhile
  hooks_auth_pending_ = false;
  protocol::Connect c = take_pending_connect();
  switch (answer.verdict) {
    case ClientHooks::Verdict::deny:
      return refuse_connect(answer.reason, protocol::to_string(answer.reason));
    case ClientHooks::Verdict::allow: {
      const std::string& identity = stream_->peer_identity();
      std::string username = identity.empty() ? c.username.value_or(std::string()) : identity;
      accept_connect(std::move(c), std::move(username), std::nullopt);
      break;
    }
    case ClientHooks::Verdict::defer: authenticate_builtin(std::move(c)); break;
  }
  // Connected here and now (a session on another core resumes later, and
  // resume() reads on): read what came after CONNECT.
  if (state_ == State::connected) {
    process_kept();
    read_next();
  }
}

void Client::authenticate_builtin(protocol::Connect&& c) {
  // A verified certificate identity (listener.cert_username) is the username.
  const std::string& identity = stream_->peer_identity();
  const config::Listener* listener = stream_->listener();
  auth::ConnectContext context{stream_->remote_address(), identity,
                               listener == nullptr || listener->anonymous_allowed()};
  ReasonCode auth = core_.broker().authorizer().authenticate(c, context);
  if (auth != ReasonCode::success) return refuse_connect(auth, protocol::to_string(auth));
  std::string username = identity.empty() ? c.username.value_or(std::string()) : identity;
  accept_connect(std::move(c), std::move(username), std::nullopt);
}

ClientView Client::view() const {
  return ClientView{client_id(), username_.view(), stream_->remote_address(), stream_->peer_identity(),
                    static_cast<int>(version_)};
}

void Client::accept_connect(protocol::Connect&& c, std::string username, std::optional<std::string> auth_data) {
  const config::Limits& limits = limits_;
  const protocol::Properties& props = c.properties;
  state_ = State::connecting;
  if (c.will) {
    const protocol::Will& w = *c.will;
    if (!router::is_valid_topic_name(w.topic) || w.topic.size() > limits.max_topic_length ||
        router::topic_levels(w.topic) > limits.max_topic_levels) {
      if (version_ == Version::v311) {
        // No 3.1.1 return code applies: close without CONNACK (MQTT-3.2.2-6).
        STRATA_INFO("client") << stream_->remote_address() << ": CONNECT refused: invalid will topic";
        return close_after_flush();
      }
      return refuse_connect(ReasonCode::topic_name_invalid, "invalid will topic");
    }
    // As for a PUBLISH (client_publish.cpp): no wildcard in a Response Topic.
    if (w.properties.response_topic && !router::is_valid_topic_name(*w.properties.response_topic)) {
      return refuse_connect(ReasonCode::protocol_error, "will response topic is not a valid topic name");
    }
    if (static_cast<std::uint8_t>(w.qos) > limits.maximum_qos) {
      return refuse_connect(ReasonCode::qos_not_supported, "will QoS not supported");
    }
    if (w.retain && !limits.retain_available) {
      return refuse_connect(ReasonCode::retain_not_supported, "retain not supported");
    }
  }

  const std::string id = std::move(c.client_id);  // client_id() once claimed (in handle_)
  username_ = username;
  clean_start_ = c.clean_start;

  // Keep alive, with the server's cap (Server Keep Alive, spec 3.2.2.3.14).
  keep_alive_ = c.keep_alive;
  bool keep_alive_overridden = false;
  if (limits.max_keep_alive != 0 && (keep_alive_ == 0 || keep_alive_ > limits.max_keep_alive)) {
    keep_alive_ = limits.max_keep_alive;
    keep_alive_overridden = true;
  }

  // Session expiry: 3.1.1 clean session 0 keeps the session (until the cap).
  std::uint32_t requested_expiry = 0;
  if (version_ == Version::v5) {
    requested_expiry = props.session_expiry_interval.value_or(0);
  } else {
    requested_expiry = c.clean_start ? 0 : Session::never_expires;
  }
  zero_expiry_requested_ = requested_expiry == 0;
  std::uint32_t expiry = std::min(requested_expiry, limits.session_expiry_max);

  // Build the CONNACK now; it is sent once the session is in place.
  protocol::Connack ack;
  if (version_ == Version::v5) {
    protocol::Properties& p = ack.properties;
    p.receive_maximum = limits.receive_maximum;
    p.maximum_packet_size = limits.max_packet_size;
    p.topic_alias_maximum = limits.topic_alias_maximum;
    p.retain_available = limits.retain_available ? 1 : 0;
    p.wildcard_subscription_available = limits.wildcard_subscriptions ? 1 : 0;
    p.subscription_identifier_available = limits.subscription_identifiers ? 1 : 0;
    p.shared_subscription_available = limits.shared_subscriptions ? 1 : 0;
    if (limits.maximum_qos < 2) p.maximum_qos = limits.maximum_qos;
    if (assigned_client_id_) p.assigned_client_identifier = id;
    if (keep_alive_overridden) p.server_keep_alive = keep_alive_;
    if (expiry != requested_expiry) p.session_expiry_interval = expiry;
    if (props.request_response_information.value_or(0) == 1) {
      p.response_information = "response/" + id;
    }
    if (auth_data) {
      // Spec 4.12.0-5: a successful CONNACK repeats the method.
      p.authentication_method = active().auth_method;
      if (!auth_data->empty()) p.authentication_data = std::move(*auth_data);
    }
  }
  io().pending = std::make_unique<Pending>(PendingAttach{std::move(ack), std::move(c.will), expiry});

  // Claim the client id; take over or resume the previous session.
  Broker& broker = core_.broker();
  const unsigned here = core_.index();
  Broker::Claim claim = broker.claim(id, clean_start_, here, expiry != 0);
  handle_ = claim.current;

  std::weak_ptr<Client> weak = shared_from_this();
  Core* me = &core_;
  const Version version = version_;
  if (claim.previous && claim.previous != claim.current) {
    // Clean start: the old session ends wherever it lives. The new one
    // starts under the handle claim() made once the old one's removal is
    // in the store: that core's store writes and ours must not overtake
    // each other.
    session::SessionRef fresh = handle_;
    core_.take(claim.previous, true, here, [me, weak, fresh, version](Core& where, std::unique_ptr<Session>) {
      auto begin = [me, weak, fresh, version] {
        if (auto client = weak.lock()) {
          client->begin_session();
        } else {
          // Gone meanwhile: the handle still gets its session, so that a
          // connection waiting to take it (Core::take) finds it.
          Session* s = me->adopt(std::make_unique<Session>(fresh, version));
          me->session_disconnected(*s, false);
        }
      };
      if (&where == me) {
        begin();
        return;
      }
      where.broker().store().after_commit(where.index(), [me, begin](bool) { asio::post(me->io(), begin); });
    });
    return;
  }
  if (!claim.previous) {
    begin_fresh();
    return;
  }
  // Resume: the session moves here from its core (possibly this one).
  session::SessionRef h = handle_;
  if (h->core.load(std::memory_order_acquire) != here) {
    core_.expect_arrival(h);  // this core's own deliveries wait here, in order
  }
  core_.take(h, false, here, [me, weak, h](Core& where, std::unique_ptr<Session> s) {
    auto owned = std::make_shared<std::unique_ptr<Session>>(std::move(s));
    auto arrive = [me, weak, owned, h] {
      // Not adopted here (it ended): what this core held for it goes on
      // as any delivery would.
      if (!*owned) me->forget_arrival(h);
      if (auto client = weak.lock()) {
        client->resume(std::move(*owned));
      } else if (*owned) {
        // The new connection went away meanwhile: keep the session offline.
        Session* adopted = me->adopt(std::move(*owned));
        me->session_disconnected(*adopted, false);
      }
    };
    if (&where == me) {
      arrive();
      return;
    }
    // A stored session moves once the old core's writes for it are in the
    // store, so they cannot land after the new core's.
    if (*owned && (*owned)->stored) {
      where.broker().store().after_commit(where.index(), [me, arrive](bool) { asio::post(me->io(), arrive); });
    } else {
      asio::post(me->io(), arrive);
    }
  });
}

void Client::begin_session() {
  if (state_ != State::connecting) {
    // Gone meanwhile: the session begins and ends, so that a connection
    // waiting to take it (Core::take) finds it.
    Session* s = core_.adopt(std::make_unique<Session>(handle_, version_));
    core_.session_disconnected(*s, false);
    return;
  }
  begin_fresh();
  process_kept();
  read_next();
}

void Client::begin_fresh() {
  // A clean session without a will has nothing to keep until it
  // subscribes or receives a QoS 2 message; most idle clients never do.
  if (pending_attach().expiry == 0 && !pending_attach().will) {
    core_.attach_bare(handle_, *this);
    bare_ = true;
    attach(nullptr, false);
    return;
  }
  attach(core_.adopt(std::make_unique<Session>(handle_, version_)), false);
}

Session& Client::session() {
  if (session_ == nullptr) {
    // A bare session's first need for state: its Session takes the
    // connection's place in the handle (Core::adopt).
    bare_ = false;
    bind(core_.adopt(std::make_unique<Session>(handle_, version_)));
  }
  return *session_;
}

void Client::bind(Session* s) {
  session_ = s;
  s->attachment = this;
  s->version = version_;
  s->username = username_.view();
  s->deadline_ms = 0;
}

void Client::detach(bool will_due, bool count) {
  if (session_ != nullptr) {
    session_->attachment = nullptr;
    handle_->online.store(false, std::memory_order_release);
    Session* s = std::exchange(session_, nullptr);
    if (count) count_disconnected();
    core_.session_disconnected(*s, will_due);
  } else if (bare_) {
    bare_ = false;
    if (count) count_disconnected();
    core_.end_bare(handle_);
  }
}

void Client::resume(std::unique_ptr<Session> s) {
  if (state_ != State::connecting) {
    if (s) {
      Session* adopted = core_.adopt(std::move(s));
      core_.session_disconnected(*adopted, false);
    }
    return;
  }
  if (s) {
    attach(core_.adopt(std::move(s)), true);
  } else {
    // The session ended while we were asking for it: start a new one.
    handle_ = core_.broker().renew(handle_, core_.index(), pending_attach().expiry != 0);
    begin_fresh();
  }
  process_kept();
  read_next();
}

void Client::attach(Session* s, bool session_present) {
  const std::unique_ptr<Pending> owned = std::move(io_->pending);  // set: io_ is there
  PendingAttach& pending = std::get<PendingAttach>(*owned);
  if (s != nullptr) {
    bind(s);
    s->expiry_interval = pending.expiry;
    s->will = std::move(pending.will);
    // Persistent sessions are stored; one that stops being persistent is
    // removed from the store.
    if (pending.expiry != 0) {
      core_.broker().store().save_session(core_.index(), *s);
    } else {
      core_.broker().store().drop_session(core_.index(), *s);
    }
  }
  handle_->online.store(true, std::memory_order_release);
  state_ = State::connected;
  count_connected();

  pending.connack.session_present = session_present;
  send(pending.connack);
  if (ClientHooks* hooks = core_.broker().client_hooks()) {
    connect_event_sent_ = true;
    hooks->connected(view(), core_.index());
  }
  STRATA_DEBUG("client") << client_id() << ": connected from " << stream_->remote_address()
                         << (version_ == Version::v5 ? " (MQTT 5.0" : " (MQTT 3.1.1")
                         << (session_present ? ", session resumed)" : ")");
  core_.cancel_deadline(*this);  // the connect timeout
  arm_timer();
  if (handle_->sink_is_log) attach_log(session_present);  // client_log.cpp
  if (session_present) {
    // The rules may have changed while it was away, and so may the user.
    core_.recheck_read_access(*s);
    resend_inflight();
    pump_queue();
  }
}

}  // namespace strata::core
