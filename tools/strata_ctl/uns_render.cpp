#include "tools/strata_ctl/uns_render.hpp"

#include <cstdio>
#include <ctime>

namespace strata::ctl {

namespace {

std::string str_at(const rapidjson::Value& o, const char* key) {
  const rapidjson::Value* v = member_at(o, key);
  return v ? cell_text(*v) : "-";
}

void tree_rows(Table& t, const rapidjson::Value& node, int depth) {
  std::string name = depth == 0 ? str_at(node, "path") : str_at(node, "name");
  if (depth == 0 && (name.empty() || name == "-")) name = "/";
  const rapidjson::Value* kids = member_at(node, "children");
  const rapidjson::Value* count = member_at(node, "child_count");
  bool more = (!kids || !kids->IsArray()) && count && count->IsUint64() && count->GetUint64() > 0;
  t.add_row({std::string(static_cast<std::size_t>(depth) * 2, ' ') + name + (more ? "/..." : ""),
             str_at(node, "topics"), str_at(node, "messages"), rate_text(member_at(node, "rate_per_s")),
             str_at(node, "status")});
  if (kids && kids->IsArray()) {
    for (const auto& k : kids->GetArray()) {
      if (k.IsObject()) tree_rows(t, k, depth + 1);
    }
  }
}

const rapidjson::Value* rows_of(const rapidjson::Value& body) {
  if (body.IsArray()) return &body;
  const rapidjson::Value* d = body.IsObject() ? member_at(body, "data") : nullptr;
  return d && d->IsArray() ? d : nullptr;
}

}  // namespace

std::string rate_text(const rapidjson::Value* v) {
  if (!v || !v->IsNumber()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v->GetDouble());
  return buf;
}

std::string utc_text(const rapidjson::Value* v) {
  if (!v || !v->IsUint64() || v->GetUint64() == 0) return "-";
  std::uint64_t ms = v->GetUint64();
  std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<unsigned>(ms % 1000));
  return buf;
}

Table tree_table(const rapidjson::Value& node) {
  Table t({"node", "topics", "messages", "rate/s", "status"});
  if (node.IsObject()) tree_rows(t, node, 0);
  return t;
}

Table topics_table(const rapidjson::Value& body) {
  Table t({"topic", "messages", "rate/s", "last seen", "status"});
  if (const rapidjson::Value* rows = rows_of(body)) {
    for (const auto& r : rows->GetArray()) {
      if (!r.IsObject()) continue;
      t.add_row({str_at(r, "topic"), str_at(r, "messages"), rate_text(member_at(r, "rate_per_s")),
                 utc_text(member_at(r, "last_seen_ms")), str_at(r, "status")});
    }
  }
  return t;
}

Table fields_table(const rapidjson::Value& schema) {
  Table t({"field", "types", "presence"});
  const rapidjson::Value* fields = schema.IsObject() ? member_at(schema, "fields") : nullptr;
  if (fields && fields->IsObject()) {
    for (auto it = fields->MemberBegin(); it != fields->MemberEnd(); ++it) {
      std::string path(it->name.GetString(), it->name.GetStringLength());
      const rapidjson::Value* p = it->value.IsObject() ? member_at(it->value, "presence") : nullptr;
      std::string presence = "-";
      if (p && p->IsNumber()) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%.0f%%", p->GetDouble() * 100.0);
        presence = buf;
      }
      t.add_row({path.empty() ? "(root)" : path, it->value.IsObject() ? str_at(it->value, "types") : "-", presence});
    }
  }
  return t;
}

Table test_table(const rapidjson::Value& body, const std::vector<std::string>& samples, std::size_t& failed) {
  Table t({"sample", "result", "kind", "pointer", "detail"});
  failed = 0;
  const rapidjson::Value* results = body.IsObject() ? member_at(body, "results") : nullptr;
  if (!results || !results->IsArray()) return t;
  std::size_t i = 0;
  for (const auto& r : results->GetArray()) {
    std::string sample = i < samples.size() ? samples[i] : "-";
    if (sample.size() > 40) sample = sample.substr(0, 37) + "...";
    ++i;
    const rapidjson::Value* valid = r.IsObject() ? member_at(r, "valid") : nullptr;
    bool ok = valid && valid->IsBool() && valid->GetBool();
    if (!ok) ++failed;
    if (ok) {
      t.add_row({sample, "valid"});
    } else {
      t.add_row({sample, "invalid", str_at(r, "kind"), str_at(r, "pointer"), str_at(r, "detail")});
    }
  }
  return t;
}

Table contracts_table(const rapidjson::Value& body) {
  Table t({"name", "version", "filter", "checks", "action", "matched", "passed", "failed"});
  if (const rapidjson::Value* rows = rows_of(body)) {
    for (const auto& r : rows->GetArray()) {
      if (!r.IsObject()) continue;
      std::string checks = str_at(r, "schema_file");
      std::string shape = str_at(r, "shape");
      if (checks.empty() || checks == "-") checks = shape == "none" ? "-" : shape;
      t.add_row({str_at(r, "name"), str_at(r, "version"), str_at(r, "filter"), checks, str_at(r, "action"),
                 str_at(r, "matched"), str_at(r, "passed"), str_at(r, "failed")});
    }
  }
  return t;
}

}  // namespace strata::ctl
