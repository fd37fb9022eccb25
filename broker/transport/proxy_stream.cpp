#include "broker/transport/proxy_stream.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>

#include "broker/transport/linger.hpp"
#include "broker/transport/proxy_header.hpp"
#include "broker/transport/tcp_stream.hpp"
#include "broker/util/log.hpp"

namespace strata::transport {

namespace asio = boost::asio;

ProxyStream::ProxyStream(Socket socket, config::ProxyProtocol versions, MakeStream make)
    : socket_(std::move(socket)), versions_(versions), make_(std::move(make)), peer_(remote_of(socket_)) {}

void ProxyStream::async_read_some(asio::mutable_buffer buffer, Handler handler) {
  if (next_) {
    next_->async_read_some(buffer, std::move(handler));
    return;
  }
  read_header(buffer, std::move(handler));
}

void ProxyStream::read_header(asio::mutable_buffer buffer, Handler handler) {
  const proxy::Result r = proxy::parse(header_, versions_);
  if (r.status == proxy::Status::error) {
    STRATA_INFO("proxy") << peer_ << ": bad PROXY protocol header, closing: " << r.error;
    handler(make_error_code(boost::system::errc::protocol_error), 0);
    return;
  }
  if (r.status == proxy::Status::done) {
    std::string client = r.source.empty() ? peer_ : r.source;
    STRATA_DEBUG("proxy") << client << ": connected through " << peer_;
    std::vector<std::uint8_t>().swap(header_);
    next_ = make_(std::move(socket_), std::move(client));
    next_->async_read_some(buffer, std::move(handler));
    return;
  }
  const std::size_t have = header_.size();
  header_.resize(have + r.need);
  asio::async_read(socket_, asio::buffer(header_.data() + have, r.need),
                   [this, buffer, handler = std::move(handler)](const boost::system::error_code& ec,
                                                                std::size_t) mutable {
                     if (ec) {
                       STRATA_DEBUG("proxy") << peer_ << ": connection lost in the PROXY header: " << ec.message();
                       handler(ec, 0);
                       return;
                     }
                     read_header(buffer, std::move(handler));
                   });
}

void ProxyStream::async_write(asio::const_buffer buffer, Handler handler) {
  if (next_) {
    next_->async_write(buffer, std::move(handler));
    return;
  }
  // Nothing is written before the first read completed (stream.hpp).
  asio::post(socket_.get_executor(), [handler = std::move(handler)]() mutable {
    handler(make_error_code(boost::system::errc::not_connected), 0);
  });
}

void ProxyStream::close(CloseNotice notice) noexcept {
  if (next_) {
    next_->close(notice);
    return;
  }
  if (notice != CloseNotice::none) return linger_close(asio::ip::tcp::socket(std::move(socket_)));
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

}  // namespace strata::transport
