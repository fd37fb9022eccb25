#include "broker/transport/tls_context.hpp"

#include <stdexcept>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "broker/util/log.hpp"

namespace strata::transport {

namespace ssl = boost::asio::ssl;

namespace {

// The most recent OpenSSL error, for messages.
std::string openssl_error() {
  unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

std::string utf8(const ASN1_STRING* s) {
  unsigned char* out = nullptr;
  int n = ASN1_STRING_to_UTF8(&out, s);
  if (n < 0) return {};
  std::string r(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
  OPENSSL_free(out);
  return r;
}

}  // namespace

TlsContext::TlsContext(const config::Listener& listener) : listener_(listener) { ctx_.store(build()); }

std::shared_ptr<ssl::context> TlsContext::build() const {
  const config::Listener& l = listener_;
  auto fail = [&](const std::string& what) -> std::runtime_error {
    return std::runtime_error("listener " + l.name() + ": " + what + ": " + openssl_error());
  };
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  int min = l.tls_min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(native, min) != 1) throw fail("cannot set the minimum TLS version");
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (!l.ciphers.empty() && SSL_CTX_set_cipher_list(native, l.ciphers.c_str()) != 1) {
    throw fail("ciphers '" + l.ciphers + "' selects no cipher");
  }
  if (SSL_CTX_use_certificate_chain_file(native, l.cert_file.c_str()) != 1) {
    throw fail("cannot load cert_file " + l.cert_file);
  }
  if (SSL_CTX_use_PrivateKey_file(native, l.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw fail("cannot load key_file " + l.key_file);
  }
  if (SSL_CTX_check_private_key(native) != 1) throw fail("key_file does not match cert_file");
  if (!l.ca_file.empty() && SSL_CTX_load_verify_locations(native, l.ca_file.c_str(), nullptr) != 1) {
    throw fail("cannot load ca_file " + l.ca_file);
  }
  switch (l.client_certs) {
    case config::ClientCerts::none: ctx->set_verify_mode(ssl::verify_none); break;
    case config::ClientCerts::optional: ctx->set_verify_mode(ssl::verify_peer); break;
    case config::ClientCerts::required:
      ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
      break;
  }
  // Session resumption across a reload or between cores is not needed for
  // MQTT's long-lived connections; a fixed id context keeps OpenSSL from
  // refusing resumption when client certificates are verified.
  static const unsigned char sid[] = "strata";
  SSL_CTX_set_session_id_context(native, sid, sizeof sid - 1);
  return ctx;
}

bool TlsContext::reload() {
  try {
    ctx_.store(build());
    STRATA_INFO("tls") << "listener " << listener_.name() << ": certificates reloaded";
    return true;
  } catch (const std::exception& e) {
    STRATA_ERROR("tls") << "reload failed, keeping the running certificates: " << e.what();
    return false;
  }
}

std::string TlsContext::peer_identity(ssl_st* ssl) const {
  if (listener_.cert_username == config::CertUsername::none) return {};
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return {};
  if (listener_.cert_username == config::CertUsername::cn) {
    X509_NAME* subject = X509_get_subject_name(cert);
    int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (i < 0) return {};
    return utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
  }
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return {};
  std::string out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && out.empty(); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS || n->type == GEN_EMAIL) out = utf8(n->d.ia5);
  }
  GENERAL_NAMES_free(names);
  return out;
}

}  // namespace strata::transport
