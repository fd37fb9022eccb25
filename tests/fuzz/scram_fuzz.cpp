// libFuzzer target for the SCRAM-SHA-256 server (broker/auth/scram_sha256.hpp)
// and the strict base64 it decodes with: both read what an unauthenticated
// client sends.
//
// The input is client-first and client-final separated by the first '\n'
// (without one, it is client-first only). The exchange runs against one
// known user ("user", RFC 7677's credentials) with a fixed server nonce, so
// a crash reproduces. Required: a step is more, success or failure as the
// state machine allows; failures carry 0x86 or 0x87 and a reason for the
// log; success names the user and carries "v=" and 44 base64 characters.
// Base64: whatever decodes strictly encodes back to the same text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "broker/auth/scram_sha256.hpp"
#include "broker/util/base64.hpp"

namespace {

using namespace strata;
using Outcome = auth::AuthStep::Outcome;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

void require_failure_is_well_formed(const auth::AuthStep& s) {
  require(s.reason == protocol::ReasonCode::bad_user_name_or_password ||
          s.reason == protocol::ReasonCode::not_authorized);
  require(!s.why.empty());
  require(s.data.empty());
}

auth::ScramSha256& server() {
  static auth::ScramSha256 instance(
      [](std::string_view name) {
        static const auth::ScramCredentials pencil =
            auth::make_scram_credentials("pencil", 4096, *util::base64_decode("W22ZaJ0SNY7soEsUEjb6gQ=="));
        if (name == "user") return auth::ScramUser{auth::ScramUser::Status::found, pencil};
        if (name == "nosecret") return auth::ScramUser{auth::ScramUser::Status::no_credentials, {}};
        return auth::ScramUser{};
      },
      [] { return std::string("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"); });
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto decoded = util::base64_decode(input)) require(util::base64_encode(*decoded) == input);

  const auto nl = input.find('\n');
  const std::string_view first = input.substr(0, nl);
  const std::string_view final = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
  auto exchange = server().begin();
  auth::AuthStep s = exchange->start(first);
  if (s.outcome == Outcome::failure) {
    require_failure_is_well_formed(s);
    return 0;
  }
  require(s.outcome == Outcome::more);
  require(s.data.starts_with("r=") && s.data.find(",s=") != std::string::npos);
  if (nl == std::string_view::npos) return 0;
  s = exchange->next(final);
  if (s.outcome == Outcome::failure) {
    require_failure_is_well_formed(s);
  } else {
    require(s.outcome == Outcome::success);
    require(s.username == "user");
    require(s.data.size() == 2 + 44 && s.data.starts_with("v="));
  }
  // The exchange is over: nothing more is accepted.
  require(exchange->next(final).outcome == Outcome::failure);
  return 0;
}
