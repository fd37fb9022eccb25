// Replay jobs' pure part: the POST body, the stored record, the ETA.
#include "broker/historian/replay_job.hpp"

#include <gtest/gtest.h>

#include "broker/historian/history_store.hpp"

namespace strata::historian {
namespace {

ReplayRequest parse_ok(std::string_view body) {
  std::string error;
  auto r = parse_replay_request(body, error);
  EXPECT_TRUE(r) << body << ": " << error;
  return r.value_or(ReplayRequest{});
}

std::string parse_error(std::string_view body) {
  std::string error;
  auto r = parse_replay_request(body, error);
  EXPECT_FALSE(r) << body;
  return error;
}

TEST(ReplayRequest, TimesAsRfc3339OrUnixMs) {
  ReplayRequest r = parse_ok(
      R"({"filter":"plant/+/temp","from":"2026-12-06T07:35:20Z","to":1796542580000,"bridge":"corp","rate":50})");
  EXPECT_EQ(r.filter, "plant/+/temp");
  EXPECT_EQ(r.from, 1796542520000);
  EXPECT_EQ(r.to, 1796542580000);
  EXPECT_EQ(r.bridge, "corp");
  EXPECT_EQ(r.rate, 50u);
  r = parse_ok(R"({"filter":"#","from":"1000","to":"2000","bridge":"b"})");
  EXPECT_EQ(r.from, 1000);
  EXPECT_EQ(r.to, 2000);
  EXPECT_EQ(r.rate, 0u);  // line rate
  EXPECT_EQ(parse_ok(R"({"filter":"#","from":1,"to":2,"bridge":"b","rate":null})").rate, 0u);
}

TEST(ReplayRequest, ErrorsNameTheMember) {
  EXPECT_EQ(parse_error("nope"), "the body is not a JSON object");
  EXPECT_EQ(parse_error("[1]"), "the body is not a JSON object");
  EXPECT_EQ(parse_error(R"({"from":1,"to":2,"bridge":"b"})"), "filter is missing");
  EXPECT_EQ(parse_error(R"({"filter":"#","to":2,"bridge":"b"})"), "from is missing");
  EXPECT_EQ(parse_error(R"({"filter":"#","from":1,"bridge":"b"})"), "to is missing");
  EXPECT_EQ(parse_error(R"({"filter":"#","from":1,"to":2})"), "bridge is missing");
  EXPECT_EQ(parse_error(R"({"filter":"a/#/b","from":1,"to":2,"bridge":"b"})"),
            "filter 'a/#/b' is not a valid MQTT topic filter");
  EXPECT_EQ(parse_error(R"({"filter":"#","from":2,"to":2,"bridge":"b"})"),
            "from must be before to (the range is [from, to))");
  EXPECT_EQ(parse_error(R"({"filter":"#","from":"yesterday","to":2,"bridge":"b"})"),
            "from must be an RFC 3339 time or unix ms");
  EXPECT_EQ(parse_error(R"({"filter":"#","from":1,"to":-5,"bridge":"b"})"), "to must be an RFC 3339 time or unix ms");
  EXPECT_EQ(parse_error(R"({"filter":"#","from":1,"to":2,"bridge":""})"), "bridge must be a non-empty string");
  EXPECT_EQ(parse_error(R"({"filter":7,"from":1,"to":2,"bridge":"b"})"), "filter must be a non-empty string");
  EXPECT_EQ(parse_error(R"({"filter":"#","from":1,"to":2,"bridge":"b","rate":-1})"),
            "rate must be an integer from 0 (line rate) to 1000000 messages/s");
  EXPECT_EQ(parse_error(R"({"filter":"#","from":1,"to":2,"bridge":"b","rate":1.5})"),
            "rate must be an integer from 0 (line rate) to 1000000 messages/s");
  EXPECT_EQ(parse_error(R"({"filter":"#","from":1,"to":2,"bridge":"b","speed":1})"),
            "unknown member 'speed' (expected filter, from, to, bridge, rate)");
}

TEST(ReplayJobRecord, RoundTrips) {
  ReplayJob j;
  j.id = 42;
  j.state = JobState::cancelled;
  j.request = ReplayRequest{"plant/#", 1796542520000, 1796542580000, "corp", 250};
  j.created_ms = 1796542600000;
  j.updated_ms = 1796542600500;
  j.sent = 1234;
  j.skipped = 3;
  j.position = raw_key(1796542530000, 77);
  j.error = "why";
  std::string bytes = encode_job(j);
  ReplayJob back;
  ASSERT_TRUE(decode_job(42, bytes, back));
  EXPECT_EQ(back.id, 42u);
  EXPECT_EQ(back.state, JobState::cancelled);
  EXPECT_EQ(back.request.filter, "plant/#");
  EXPECT_EQ(back.request.from, 1796542520000);
  EXPECT_EQ(back.request.to, 1796542580000);
  EXPECT_EQ(back.request.bridge, "corp");
  EXPECT_EQ(back.request.rate, 250u);
  EXPECT_EQ(back.created_ms, j.created_ms);
  EXPECT_EQ(back.updated_ms, j.updated_ms);
  EXPECT_EQ(back.sent, 1234u);
  EXPECT_EQ(back.skipped, 3u);
  EXPECT_EQ(back.position, j.position);
  EXPECT_EQ(back.error, "why");

  // Before the first message: no position.
  j.position.clear();
  ASSERT_TRUE(decode_job(42, encode_job(j), back));
  EXPECT_TRUE(back.position.empty());
}

TEST(ReplayJobRecord, RefusesDamagedRecords) {
  ReplayJob j;
  j.request = ReplayRequest{"a/#", 1, 2, "b", 0};
  const std::string good = encode_job(j);
  ReplayJob out;
  for (std::size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(decode_job(1, good.substr(0, n), out)) << n;
  EXPECT_FALSE(decode_job(1, good + "x", out));
  std::string v2 = good;
  v2[0] = 2;
  EXPECT_FALSE(decode_job(1, v2, out));
  std::string bad_state = good;
  bad_state[1] = 9;
  EXPECT_FALSE(decode_job(1, bad_state, out));
  j.position = "short";
  EXPECT_FALSE(decode_job(1, encode_job(j), out));
}

TEST(ReplayJobRecord, KeysAreBigEndianIds) {
  EXPECT_EQ(job_key(1), std::string("\0\0\0\0\0\0\0\1", 8));
  EXPECT_LT(job_key(255), job_key(256));
  EXPECT_EQ(job_id_of_key(job_key(0x0102030405060708ULL)), 0x0102030405060708ULL);
  EXPECT_FALSE(job_id_of_key("1234"));
}

TEST(ReplayJobRecord, StateNames) {
  EXPECT_EQ(job_state_name(JobState::running), "running");
  EXPECT_EQ(job_state_name(JobState::done), "done");
  EXPECT_EQ(job_state_name(JobState::cancelled), "cancelled");
  EXPECT_EQ(job_state_name(JobState::failed), "failed");
}

TEST(ReplayEta, RemainingOverRate) {
  EXPECT_EQ(eta_seconds(0, 0), 0.0);
  EXPECT_FALSE(eta_seconds(10, 0));
  EXPECT_DOUBLE_EQ(*eta_seconds(100, 20), 5.0);
}

}  // namespace
}  // namespace strata::historian
