#include "tools/strata_ctl/context.hpp"

#include <ostream>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace strata::ctl {

ApiError::ApiError(unsigned status, std::string code, const std::string& message)
    : CtlError(std::to_string(status) + " " + code + ": " + message), status_(status), code_(std::move(code)) {}

ApiError api_error_of(const HttpResponse& r) {
  rapidjson::Document d;
  d.Parse(r.body.data(), r.body.size());
  if (!d.HasParseError() && d.IsObject() && d.HasMember("code") && d["code"].IsString() && d.HasMember("message") &&
      d["message"].IsString()) {
    return ApiError(r.status, d["code"].GetString(), d["message"].GetString());
  }
  std::string text = r.body.substr(0, r.body.find('\n'));
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  return ApiError(r.status, r.reason.empty() ? "ERROR" : r.reason, text.empty() ? "(no message)" : text);
}

rapidjson::Document parse_json(const std::string& body) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (d.HasParseError()) throw CtlError("the server's answer is not JSON: " + body.substr(0, 120));
  return d;
}

HttpResponse Context::call(const std::string& method, const std::string& target, const std::string& body,
                           const std::string& content_type) {
  HttpResponse r = client_.request(method, target, body, content_type);
  if (r.status >= 400) throw api_error_of(r);
  return r;
}

rapidjson::Document Context::call_json(const std::string& method, const std::string& target,
                                       const std::string& body, const std::string& content_type) {
  return parse_json(call(method, target, body, content_type).body);
}

void Context::print(const HttpResponse& r, const std::string& text) {
  if (json_) {
    out_ << r.body;
    if (!r.body.empty() && r.body.back() != '\n') out_ << '\n';
    return;
  }
  out_ << text;
}

void Context::print_list(const HttpResponse& r, const std::vector<Column>& columns) {
  if (json_) return print(r, {});
  rapidjson::Document d = parse_json(r.body);
  out_ << list_table(d, columns).render();
  const rapidjson::Value* more = d.IsObject() ? member_at(d, "meta.hasnext") : nullptr;
  if (more && more->IsBool() && more->GetBool()) {
    const rapidjson::Value* page = member_at(d, "meta.page");
    long long next = page && page->IsInt64() ? page->GetInt64() + 1 : 2;
    err_ << "(more: --page " << next << ")\n";
  }
}

OptionSpec page_option() { return {"--page", 1, "N", "page of the list, from 1"}; }
OptionSpec limit_option() { return {"--limit", 1, "N", "rows per page (default 100, at most 10000)"}; }

void add_paging(const Args& a, std::vector<std::pair<std::string, std::string>>& params) {
  if (a.has("--page")) params.emplace_back("page", std::to_string(a.integer("--page", 1, 1000000000, 1)));
  if (a.has("--limit")) params.emplace_back("limit", std::to_string(a.integer("--limit", 1, 10000, 100)));
}

std::string json_string(const std::string& s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace strata::ctl
