#include "broker/admin/server.hpp"

#include <future>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "broker/admin/endpoints.hpp"
#include "broker/transport/tls_context.hpp"
#include "broker/util/log.hpp"

namespace strata::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

constexpr std::uint32_t header_limit = 16 * 1024;

std::string endpoint_text(const tcp::endpoint& ep) {
  auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

// One connection. Stream is beast::tcp_stream or ssl_stream<tcp_stream>.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Server& server, Stream stream, std::string remote)
      : server_(server), stream_(std::move(stream)), remote_(std::move(remote)) {}
  ~Session() { server_.release_connection(); }

  void start() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      read();
    } else {
      beast::get_lowest_layer(stream_).expires_after(server_.config().idle_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return;  // a failed handshake: nothing to answer
                                self->read();
                              });
    }
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(header_limit);
    parser_->body_limit(server_.config().max_body_size);
    beast::get_lowest_layer(stream_).expires_after(server_.config().idle_timeout);
    beast::http::async_read(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_read(ec);
                            });
  }

  void on_read(beast::error_code ec) {
    namespace h = beast::http;
    if (ec == h::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      return close();
    }
    if (ec) {
      // Unparseable or too large: answer once, then close (the rest of the
      // stream cannot be trusted to hold a request boundary).
      Response r;
      if (ec == h::error::body_limit) {
        r = error_response(h::status::payload_too_large, "PAYLOAD_TOO_LARGE",
                           "the request body is larger than admin.max_body_size (" +
                               std::to_string(server_.config().max_body_size) + " bytes)");
      } else if (ec == h::error::header_limit) {
        r = error_response(h::status::request_header_fields_too_large, "HEADERS_TOO_LARGE",
                           "the request headers are larger than 16 KiB");
      } else {
        r = error_response(h::status::bad_request, "BAD_REQUEST", "malformed HTTP request: " + ec.message());
      }
      return write(std::move(r), false, 11);
    }
    Server::BeastRequest req = parser_->release();
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    auto self = this->shared_from_this();
    asio::io_context* io = &server_.api().io();
    Reply reply([self, io, keep_alive, version, alive = server_.alive()](Response r) {
      // After the server stopped (a request still on a core at shutdown)
      // there is nobody to answer.
      if (!alive->load(std::memory_order_acquire)) return;
      asio::post(*io, [self, r = std::move(r), keep_alive, version]() mutable {
        self->write(std::move(r), keep_alive, version);
      });
    });
    server_.handle(std::move(req), remote_, std::move(reply));
  }

  void write(Response r, bool keep_alive, unsigned version) {
    namespace h = beast::http;
    auto res = std::make_shared<h::response<h::string_body>>(r.status, version);
    res->set(h::field::server, "strata/" STRATA_VERSION);
    if (r.status != h::status::no_content) res->set(h::field::content_type, r.content_type);
    res->set(h::field::cache_control, "no-store");
    for (auto& [k, v] : r.headers) res->set(k, v);
    res->keep_alive(keep_alive);
    res->body() = std::move(r.body);
    res->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(server_.config().idle_timeout);
    h::async_write(stream_, *res, [self = this->shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      if (!keep_alive) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ec;
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    } else {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    }
  }

  Server& server_;
  Stream stream_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
};

}  // namespace

Server::Server(core::Broker& broker, const std::optional<std::string>& url_override)
    : broker_(broker), url_override_(url_override), config_(read_admin_config(broker.config(), url_override)) {
  api_ = std::make_unique<Api>(broker, io_);
  auth_ = std::make_unique<Auth>(config_, broker.config().auth);
  history_ = std::make_unique<HistorySampler>(*api_);
  if (config_.enabled() && config_.https()) tls_ = std::make_shared<transport::TlsContext>(config_.listener);
  add_builtin_endpoints(*this);
  if (auto root = web_root(); !root.empty()) web_ = std::make_unique<StaticFiles>(root);
  broker_.add_reload_hook([this](const config::Config& fresh) {
    // Runs on core 0: the admin state is the admin thread's, so the work is
    // posted there and waited for.
    if (!running_) return std::string();
    std::promise<std::string> done;
    auto result = done.get_future();
    asio::post(io_, [&] {
      try {
        done.set_value(reload(fresh));
      } catch (...) {
        done.set_exception(std::current_exception());
      }
    });
    return result.get();
  });
}

Server::~Server() { stop(); }

std::string Server::url() const {
  const auto& l = config_.listener;
  bool v6 = l.host.find(':') != std::string::npos;
  return std::string(config_.https() ? "https" : "http") + "://" + (v6 ? "[" + l.host + "]" : l.host) + ":" +
         std::to_string(port_);
}

void Server::start() {
  if (!config_.enabled()) {
    STRATA_INFO("admin") << "admin API off (admin.url is empty)";
    return;
  }
  tcp::endpoint ep;
  try {
    ep = tcp::endpoint(asio::ip::make_address(config_.listener.host), config_.listener.port);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot listen on admin " + config_.url + ": " + e.what());
  }
  try {
    acceptor_.emplace(io_);
    acceptor_->open(ep.protocol());
    acceptor_->set_option(asio::socket_base::reuse_address(true));
    acceptor_->bind(ep);
    acceptor_->listen();
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("cannot listen on admin " + config_.url + ": " + e.code().message());
  }
  port_ = acceptor_->local_endpoint().port();
  accept();
  history_->start();
  running_ = true;
  thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(io_);
    while (true) {
      try {
        io_.run();
        break;
      } catch (const std::exception& e) {
        STRATA_ERROR("admin") << "unexpected error on the admin thread: " << e.what();
      }
    }
  });
  STRATA_INFO("admin") << "admin API on " << url() << " (auth " << (auth_->open() ? "open" : "login") << ")";
  if (web_) {
    STRATA_INFO("admin") << "dashboard on " << url() << "/ from " << web_->root().string();
  }
}

void Server::stop() {
  alive_->store(false, std::memory_order_release);
  if (!running_.exchange(false)) return;
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

bool Server::admit_connection() {
  if (connections_ >= config_.max_connections) return false;
  ++connections_;
  return true;
}

void Server::accept() {
  acceptor_->async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      beast::error_code ep_ec;
      auto peer = socket.remote_endpoint(ep_ec);
      if (!ep_ec && admit_connection()) {
        std::string remote = endpoint_text(peer);
        socket.set_option(tcp::no_delay(true), ep_ec);
        if (tls_) {
          auto ctx = tls_->current();
          std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
              *this, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *ctx), remote)
              ->start();
        } else {
          std::make_shared<Session<beast::tcp_stream>>(*this, beast::tcp_stream(std::move(socket)), remote)->start();
        }
      }
    }
    accept();
  });
}

bool Server::cors_allowed(std::string_view origin) const {
  for (const std::string& o : config_.cors_origins) {
    if (o == "*" || o == origin) return true;
  }
  return false;
}

void Server::handle(BeastRequest&& breq, const std::string& remote, Reply reply) {
  namespace h = beast::http;
  std::string origin(breq[h::field::origin]);
  const bool cors = !origin.empty() && cors_allowed(origin);
  if (cors) {
    // Every answer to an allowed origin carries the CORS headers.
    Reply inner = reply;
    reply = Reply([inner, origin](Response r) {
      r.headers.emplace_back("Access-Control-Allow-Origin", origin);
      r.headers.emplace_back("Vary", "Origin");
      inner.send(std::move(r));
    });
  }
  Request req;
  req.method = breq.method();
  req.target = std::string(breq.target());
  req.remote = remote;
  req.body = std::move(breq.body());
  req.content_type = std::string(breq[h::field::content_type]);
  if (req.target.empty() || req.target.front() != '/' || !split_target(req.target, req.path, req.query)) {
    return reply.error(h::status::bad_request, "BAD_REQUEST", "malformed request target (bad percent-encoding?)");
  }
  if (req.method == h::verb::options && cors) {
    Response r;
    r.status = h::status::no_content;
    r.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
    r.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type");
    r.headers.emplace_back("Access-Control-Max-Age", "600");
    return reply.send(std::move(r));
  }
  Router::Match m = api_->router().match(req.method, req.path);
  if (!m.route) {
    // Paths no route takes, outside /api/, are the dashboard's files.
    if (web_ && req.method == h::verb::get && m.error == h::status::not_found && !req.path.starts_with("/api/")) {
      return reply.send(web_->serve(req.path, breq[h::field::if_none_match]));
    }
    if (m.error == h::status::method_not_allowed) {
      Response r = error_response(m.error, "METHOD_NOT_ALLOWED",
                                  std::string(method_name(req.method)) + " is not allowed on " + req.path +
                                      "; allowed: " + m.allow);
      r.headers.emplace_back("Allow", m.allow);
      return reply.send(std::move(r));
    }
    if (m.error == h::status::bad_request) {
      return reply.error(m.error, "BAD_REQUEST", "bad percent-encoding in the path " + req.path);
    }
    return reply.error(h::status::not_found, "NOT_FOUND", "no endpoint " + req.path);
  }
  req.params = std::move(m.params);
  try {
    const Route& route = *m.route;
    bool needs_login = route.access != Access::open || (route.pattern == "/metrics" && config_.metrics_auth);
    if (needs_login) {
      std::string_view authorization = breq[h::field::authorization];
      Auth::Identity id = auth_->identify(authorization, remote);
      if (authorization.starts_with("Bearer ")) req.token = std::string(authorization.substr(7));
      req.user = std::move(id.user);
      req.role = id.role;
      if (route.access == Access::admin && req.role != Role::admin) {
        throw Error::forbidden("the " + std::string(to_string(req.role)) + " role may not " +
                               std::string(method_name(req.method)) + " " + req.path);
      }
    } else {
      req.user = "anonymous";
      req.role = Role::none;
    }
    route.handler(req, reply);
  } catch (const Error& e) {
    if (e.status() == h::status::unauthorized) {
      Response r = error_response(e);
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"strata\"");
      return reply.send(std::move(r));
    }
    reply.error(e);
  } catch (const std::exception& e) {
    STRATA_ERROR("admin") << method_name(req.method) << " " << req.path << ": " << e.what();
    reply.error(h::status::internal_server_error, "INTERNAL_ERROR", e.what());
  }
}

std::string Server::reload(const config::Config& fresh) {
  AdminConfig next = read_admin_config(fresh, url_override_);
  std::string changed;
  auth_->reload(next);
  changed = "admin: reloaded users and API keys";
  if (tls_ && !tls_->reload()) changed += "; TLS files did not load, keeping the running ones";
  config_.token_ttl = next.token_ttl;
  config_.cors_origins = next.cors_origins;
  config_.metrics_auth = next.metrics_auth;
  config_.users_file = next.users_file;
  config_.api_keys_file = next.api_keys_file;
  if (next.url != config_.url || next.auth != config_.auth) changed += "; admin.url and admin.auth changes need a restart";
  return changed;
}

}  // namespace strata::admin
