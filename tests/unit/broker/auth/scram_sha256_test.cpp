// The SCRAM-SHA-256 server exchange, checked against RFC 7677's example and
// against a client written here from RFC 5802 (PBKDF2 straight from
// OpenSSL, not through the broker's credential code).
#include "broker/auth/scram_sha256.hpp"

#include <gtest/gtest.h>

#include "broker/util/base64.hpp"
#include "tests/unit/broker/auth/scram_test_client.hpp"

namespace strata::auth {
namespace {

using Outcome = AuthStep::Outcome;
using protocol::ReasonCode;
using testing::client_final_for;

// RFC 7677 section 3.
constexpr std::string_view rfc_client_first = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view rfc_server_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view rfc_server_first =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view rfc_client_final =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view rfc_server_final = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

// A credential store with "user"/"pencil" (the RFC's salt), "nosecret"
// (a user without SCRAM credentials) and nobody else.
ScramUser lookup(std::string_view name) {
  if (name == "user") {
    return {ScramUser::Status::found,
            make_scram_credentials("pencil", 4096, *util::base64_decode("W22ZaJ0SNY7soEsUEjb6gQ=="))};
  }
  if (name == "nosecret") return {ScramUser::Status::no_credentials, {}};
  return {};
}

ScramSha256 rfc_server() {
  return ScramSha256(lookup, [] { return std::string(rfc_server_nonce); });
}

TEST(ScramSha256, Rfc7677Exchange) {
  ScramSha256 server = rfc_server();
  EXPECT_EQ(server.method(), "SCRAM-SHA-256");
  auto exchange = server.begin();
  AuthStep first = exchange->start(rfc_client_first);
  ASSERT_EQ(first.outcome, Outcome::more) << first.why;
  EXPECT_EQ(first.data, rfc_server_first);
  AuthStep final = exchange->next(rfc_client_final);
  ASSERT_EQ(final.outcome, Outcome::success) << final.why;
  EXPECT_EQ(final.data, rfc_server_final);
  EXPECT_EQ(final.username, "user");
  // The exchange is over: any further message is refused.
  EXPECT_EQ(exchange->next(rfc_client_final).outcome, Outcome::failure);
  EXPECT_EQ(exchange->start(rfc_client_first).outcome, Outcome::failure);
}

TEST(ScramSha256, OwnClientWithRandomNonces) {
  ScramSha256 server(lookup);
  auto a = server.begin();
  AuthStep first = a->start("n,,n=user,r=clientnonce123");
  ASSERT_EQ(first.outcome, Outcome::more);
  // r = client nonce + 24 base64 characters of server nonce.
  ASSERT_TRUE(first.data.starts_with("r=clientnonce123"));
  EXPECT_EQ(first.data.find(','), std::string("r=clientnonce123").size() + 24);
  EXPECT_TRUE(first.data.ends_with(",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
  AuthStep final = a->next(client_final_for("pencil", "n=user,r=clientnonce123", first.data));
  ASSERT_EQ(final.outcome, Outcome::success) << final.why;
  EXPECT_TRUE(final.data.starts_with("v="));
  // Another exchange gets another server nonce.
  AuthStep other = server.begin()->start("n,,n=user,r=clientnonce123");
  EXPECT_NE(other.data, first.data);
}

TEST(ScramSha256, ChannelBindingFlagYAndAuthzid) {
  // "y": the client could bind but thinks the server cannot; c= repeats it.
  ScramSha256 server = rfc_server();
  auto a = server.begin();
  AuthStep first = a->start("y,a=user,n=user,r=abc");
  ASSERT_EQ(first.outcome, Outcome::more) << first.why;
  AuthStep final = a->next(client_final_for("pencil", "n=user,r=abc", first.data,
                                            "c=" + util::base64_encode("y,a=user,")));
  EXPECT_EQ(final.outcome, Outcome::success) << final.why;
}

TEST(ScramSha256, WrongPassword) {
  ScramSha256 server = rfc_server();
  auto a = server.begin();
  AuthStep first = a->start(rfc_client_first);
  AuthStep final = a->next(client_final_for("pencil2", "n=user,r=rOprNGfwEbeRWgbNEkqO", first.data));
  EXPECT_EQ(final.outcome, Outcome::failure);
  EXPECT_EQ(final.reason, ReasonCode::bad_user_name_or_password);
  EXPECT_EQ(final.why, "user 'user': wrong password");
  EXPECT_TRUE(final.data.empty());
}

TEST(ScramSha256, UnknownUserLooksLikeAKnownOneUntilTheEnd) {
  ScramSha256 server(lookup);
  AuthStep a = server.begin()->start("n,,n=mallory,r=abc");
  AuthStep b = server.begin()->start("n,,n=mallory,r=abc");
  ASSERT_EQ(a.outcome, Outcome::more);
  // Same salt and iterations each time (a changing salt would tell).
  EXPECT_EQ(a.data.substr(a.data.find(",s=")), b.data.substr(b.data.find(",s=")));
  EXPECT_EQ(a.data.substr(a.data.find(",s=")).size(), std::string(",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096").size());
  EXPECT_NE(a.data.substr(a.data.find(",s=")), ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  // Another process has another secret, hence another decoy salt.
  EXPECT_NE(ScramSha256(lookup).decoy("mallory").salt, server.decoy("mallory").salt);

  auto x = server.begin();
  AuthStep first = x->start("n,,n=mallory,r=abc");
  AuthStep final = x->next(client_final_for("anything", "n=mallory,r=abc", first.data));
  EXPECT_EQ(final.outcome, Outcome::failure);
  EXPECT_EQ(final.reason, ReasonCode::bad_user_name_or_password);
  EXPECT_EQ(final.why, "user 'mallory': unknown user");
}

TEST(ScramSha256, UserWithoutScramCredentials) {
  ScramSha256 server(lookup);
  auto x = server.begin();
  AuthStep first = x->start("n,,n=nosecret,r=abc");
  ASSERT_EQ(first.outcome, Outcome::more);
  AuthStep final = x->next(client_final_for("whatever", "n=nosecret,r=abc", first.data));
  EXPECT_EQ(final.outcome, Outcome::failure);
  EXPECT_EQ(final.reason, ReasonCode::bad_user_name_or_password);
  EXPECT_EQ(final.why,
            "user 'nosecret': no SCRAM-SHA-256 credentials in the password file (set the password again with "
            "strata-passwd)");
}

TEST(ScramSha256, EscapedUsername) {
  // "=2C" and "=3D" stand for ',' and '='.
  std::string seen;
  ScramSha256 server([&](std::string_view name) {
    seen = name;
    return ScramUser{};
  });
  EXPECT_EQ(server.begin()->start("n,,n=a=2Cb=3Dc,r=abc").outcome, Outcome::more);
  EXPECT_EQ(seen, "a,b=c");
}

// A malformed or out-of-order client-first: 0x87 and the reason.
TEST(ScramSha256, MalformedClientFirst) {
  ScramSha256 server = rfc_server();
  auto why = [&](std::string_view client_first) {
    AuthStep s = server.begin()->start(client_first);
    EXPECT_EQ(s.outcome, Outcome::failure) << client_first;
    EXPECT_EQ(s.reason, ReasonCode::not_authorized) << client_first;
    return s.why;
  };
  EXPECT_EQ(why(""), "client-first is not gs2-header,n=user,r=nonce");
  EXPECT_EQ(why("n=user,r=abc"), "client-first is not gs2-header,n=user,r=nonce");
  EXPECT_EQ(why("p=tls-unique,,n=user,r=abc"), "channel binding is not supported");
  EXPECT_EQ(why("x,,n=user,r=abc"), "client-first has no GS2 channel binding flag");
  EXPECT_EQ(why("n,,m=ext,n=user,r=abc"), "client-first has a mandatory extension");
  EXPECT_EQ(why("n,,r=abc,n=user"), "client-first is not gs2-header,n=user,r=nonce");
  EXPECT_EQ(why("n,,n=,r=abc"), "client-first has an invalid username");
  EXPECT_EQ(why("n,,n=a=2Xb,r=abc"), "client-first has an invalid username");
  EXPECT_EQ(why("n,a=other,n=user,r=abc"), "authorization identity differs from the user");
  EXPECT_EQ(why("n,b=user,n=user,r=abc"), "authorization identity differs from the user");
  EXPECT_EQ(why("n,,n=user,r="), "client-first has an invalid nonce");
  EXPECT_EQ(why(std::string("n,,n=user,r=a\x01", 14)), "client-first has an invalid nonce");
  EXPECT_EQ(why("n,,n=user,r=" + std::string(5000, 'a')), "client-first too long");
  // client-final before client-first
  AuthStep s = server.begin()->next(rfc_client_final);
  EXPECT_EQ(s.reason, ReasonCode::not_authorized);
  EXPECT_EQ(s.why, "client-final out of order");
}

// A malformed client-final after a good client-first: 0x87 and the reason.
TEST(ScramSha256, MalformedClientFinal) {
  ScramSha256 server = rfc_server();
  auto why = [&](std::string_view client_final) {
    auto x = server.begin();
    EXPECT_EQ(x->start(rfc_client_first).outcome, Outcome::more);
    AuthStep s = x->next(client_final);
    EXPECT_EQ(s.outcome, Outcome::failure) << client_final;
    EXPECT_EQ(s.reason, ReasonCode::not_authorized) << client_final;
    return s.why;
  };
  const std::string nonce = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  const std::string proof = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  EXPECT_EQ(why("c=biws," + nonce), "client-final has no proof");
  EXPECT_EQ(why(nonce + "," + proof), "client-final is not c=...,r=...,p=...");
  EXPECT_EQ(why("c=biws,x=1," + proof), "client-final is not c=...,r=...,p=...");
  EXPECT_EQ(why("c=eSws," + nonce + "," + proof), "client-final channel binding differs");  // "y,,"
  EXPECT_EQ(why("c=biws,r=rOprNGfwEbeRWgbNEkqO," + proof), "client-final nonce differs");
  EXPECT_EQ(why("c=biws," + nonce + ",p=AAAA"), "client-final proof is not 32 bytes");
  EXPECT_EQ(why("c=biws," + nonce + ",p=not-base64!"), "client-final proof is not 32 bytes");
  EXPECT_EQ(why("c=biws," + nonce + "," + proof + std::string(5000, 'A')), "client-final too long");
}

}  // namespace
}  // namespace strata::auth
