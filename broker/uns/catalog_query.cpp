#include "broker/uns/catalog_query.hpp"

#include "broker/util/base64.hpp"

#include <algorithm>
#include <regex>
#include <stdexcept>

#include "broker/router/topic.hpp"
#include "broker/uns/namespace_hook.hpp"
#include "broker/util/base64.hpp"

namespace strata::uns {
namespace {

using rapidjson::Document;
using rapidjson::Value;

Value lit(const char* s) { return Value(rapidjson::StringRef(s)); }

Value str(const std::string& s, Document::AllocatorType& a) {
  return Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
}

Value violation_json(const ViolationRecord& v, Document::AllocatorType& a) {
  Value o(rapidjson::kObjectType);
  o.AddMember("time_ms", v.at_ms, a);
  o.AddMember("topic", str(v.topic, a), a);
  o.AddMember("client_id", str(v.client_id, a), a);
  o.AddMember("contract", str(v.contract, a), a);
  o.AddMember("version", str(v.version, a), a);
  o.AddMember("pointer", str(v.pointer, a), a);
  o.AddMember("kind", str(std::string(kKindNames[static_cast<std::size_t>(v.kind)]), a), a);
  o.AddMember("detail", str(v.detail, a), a);
  o.AddMember("action", str(std::string(kActionNames[static_cast<std::size_t>(v.action)]), a), a);
  o.AddMember("sample", str(v.sample, a), a);
  return o;
}

Value summary_json(const std::string& topic, const MergedTopic& t, Document::AllocatorType& a) {
  Value o(rapidjson::kObjectType);
  o.AddMember("topic", str(topic, a), a);
  o.AddMember("messages", t.count, a);
  o.AddMember("rate_per_s", t.rate_per_s, a);
  o.AddMember("last_seen_ms", t.last_ms, a);
  o.AddMember("status", lit(t.violating() ? "violating" : "ok"), a);
  return o;
}

struct Node {
  std::uint64_t topics = 0, messages = 0, last_ms = 0;
  double rate = 0;
  bool violating = false;
  std::map<std::string, Node> children;
};

Value node_json(const std::string& name, const std::string& path, const Node& n, unsigned depth, std::size_t offset,
                std::size_t limit, Document::AllocatorType& a) {
  Value o(rapidjson::kObjectType);
  o.AddMember("name", str(name, a), a);
  o.AddMember("path", str(path, a), a);
  o.AddMember("topics", n.topics, a);
  o.AddMember("messages", n.messages, a);
  o.AddMember("rate_per_s", n.rate, a);
  o.AddMember("last_seen_ms", n.last_ms, a);
  o.AddMember("status", lit(n.violating ? "violating" : "ok"), a);
  o.AddMember("child_count", static_cast<std::uint64_t>(n.children.size()), a);
  if (depth > 0) {
    Value kids(rapidjson::kArrayType);
    std::size_t i = 0;
    for (const auto& [k, child] : n.children) {
      if (i++ < offset) continue;
      if (kids.Size() >= limit) break;
      kids.PushBack(node_json(k, path.empty() ? k : path + "/" + k, child, depth - 1, 0, limit, a), a);
    }
    o.AddMember("children", kids, a);
  }
  return o;
}

}  // namespace

void merge_into(MergedCatalog& out, const Catalog& catalog, const Rules& rules, std::uint64_t now_ms) {
  out.evicted += catalog.evicted();
  catalog.for_each([&](std::string_view topic, const CatalogEntry& e) {
    if (e.count == 0 && !e.last_violation) return;
    MergedTopic& t = out.topics[std::string(topic)];
    std::uint64_t dt = now_ms > e.last_ms ? now_ms - e.last_ms : 0;
    t.rate_per_s += e.rate_fast.at(dt, 10.0f);
    t.rate_per_min += e.rate_slow.at(dt, 300.0f) * 60.0;
    t.count += e.count;
    t.violations += e.violations;
    if (t.first_ms == 0 || (e.first_ms != 0 && e.first_ms < t.first_ms)) t.first_ms = e.first_ms;
    if (e.last_ms >= t.last_ms && e.count > 0) {  // the latest value wins
      t.last_ms = e.last_ms;
      t.size = e.size;
      t.qos = e.qos;
      t.kind = e.kind;
      t.retain = e.retain;
      t.truncated = e.truncated;
      t.value = e.value;
      if (e.publisher != nullptr) t.publisher = *e.publisher; else t.publisher.clear();
      t.properties = e.properties != nullptr ? *e.properties : LastProperties{};
      t.versions = e.versions;
      t.current = e.current;
    }
    if (e.generation == rules.generation) {
      t.place = e.place;
      t.model_error = e.model_error;
      t.contracts.clear();
      for (std::uint16_t i : e.contracts) {
        const Contract& c = *rules.config.contracts[i];
        t.contracts.push_back(c.name() + " v" + c.version());
      }
    }
    if (e.last_violation && (!t.last_violation || e.last_violation->at_ms >= t.last_violation->at_ms)) {
      t.last_violation = *e.last_violation;
    }
  });
}

void merge_catalogs(MergedCatalog& into, MergedCatalog&& from) {
  into.evicted += from.evicted;
  for (auto& [topic, f] : from.topics) {
    auto [it, fresh] = into.topics.try_emplace(topic);
    MergedTopic& t = it->second;
    if (fresh) {
      t = std::move(f);
      continue;
    }
    t.count += f.count;
    t.violations += f.violations;
    t.rate_per_s += f.rate_per_s;
    t.rate_per_min += f.rate_per_min;
    if (f.first_ms != 0 && (t.first_ms == 0 || f.first_ms < t.first_ms)) t.first_ms = f.first_ms;
    if (f.count > 0 && f.last_ms >= t.last_ms) {
      t.last_ms = f.last_ms;
      t.size = f.size;
      t.qos = f.qos;
      t.kind = f.kind;
      t.retain = f.retain;
      t.truncated = f.truncated;
      t.value = std::move(f.value);
      t.publisher = std::move(f.publisher);
      t.properties = std::move(f.properties);
      t.versions = std::move(f.versions);
      t.current = f.current;
    }
    if (!t.place) t.place = f.place;
    if (!t.model_error) t.model_error = f.model_error;
    if (t.contracts.empty()) t.contracts = std::move(f.contracts);
    if (f.last_violation && (!t.last_violation || f.last_violation->at_ms >= t.last_violation->at_ms)) {
      t.last_violation = std::move(f.last_violation);
    }
  }
}

rapidjson::Document query_tree(const MergedCatalog& c, const std::string& path, unsigned depth, std::size_t offset,
                               std::size_t limit) {
  Node root;
  std::string prefix = path.empty() ? "" : path + "/";
  for (const auto& kv : c.topics) {
    const std::string& topic = kv.first;
    const MergedTopic& t = kv.second;  // not a structured binding: lambdas below capture it
    if (!path.empty() && topic != path && !topic.starts_with(prefix)) continue;
    std::string_view rest = topic == path ? std::string_view{} : std::string_view(topic).substr(prefix.size());
    Node* n = &root;
    auto account = [&](Node& x) {
      ++x.topics;
      x.messages += t.count;
      x.rate += t.rate_per_s;
      x.last_ms = std::max(x.last_ms, t.last_ms);
      x.violating = x.violating || t.violating();
    };
    account(*n);
    while (!rest.empty() || (n == &root && topic != path && false)) {
      auto slash = rest.find('/');
      n = &n->children[std::string(rest.substr(0, slash))];
      account(*n);
      rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    }
  }
  Document d;
  std::string name = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  static_cast<Value&>(d) = node_json(name, path, root, depth, offset, limit, d.GetAllocator());
  return d;
}

rapidjson::Document query_topics(const MergedCatalog& c, const TopicQuery& q, std::uint64_t now_ms) {
  std::optional<std::regex> re;
  if (!q.regex.empty()) {
    try {
      re.emplace(q.regex, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw std::invalid_argument("regex '" + q.regex + "': " + e.what());
    }
  }
  if (!q.match.empty() && !router::is_valid_topic_filter(q.match)) {
    throw std::invalid_argument("match '" + q.match + "' is not a valid topic filter");
  }
  Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Value items(rapidjson::kArrayType);
  std::size_t total = 0;
  for (const auto& [topic, t] : c.topics) {
    if (!q.match.empty() && !router::topic_matches(q.match, topic)) continue;
    if (!q.q.empty() && topic.find(q.q) == std::string::npos) continue;
    if (re && !std::regex_search(topic, *re)) continue;
    if (!q.contract.empty() && std::none_of(t.contracts.begin(), t.contracts.end(), [&](const std::string& n) {
          return n.starts_with(q.contract + " v");
        })) {
      continue;
    }
    if (q.status == "ok" && t.violating()) continue;
    if (q.status == "violating" && !t.violating()) continue;
    if (q.stale_s != 0 && now_ms - t.last_ms < q.stale_s * 1000) continue;
    if (total++ < q.offset || items.Size() >= q.limit) continue;
    items.PushBack(summary_json(topic, t, a), a);
  }
  d.AddMember("total", static_cast<std::uint64_t>(total), a);
  d.AddMember("offset", static_cast<std::uint64_t>(q.offset), a);
  d.AddMember("items", items, a);
  return d;
}

std::optional<rapidjson::Document> query_topic(const MergedCatalog& c, const std::string& topic) {
  auto it = c.topics.find(topic);
  if (it == c.topics.end()) return std::nullopt;
  const MergedTopic& t = it->second;
  Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("topic", str(topic, a), a);
  d.AddMember("first_seen_ms", t.first_ms, a);
  d.AddMember("last_seen_ms", t.last_ms, a);
  d.AddMember("messages", t.count, a);
  d.AddMember("violations", t.violations, a);
  d.AddMember("rate_per_s", t.rate_per_s, a);
  d.AddMember("rate_per_min", t.rate_per_min, a);
  d.AddMember("value", str(t.value, a), a);
  d.AddMember("value_truncated", t.truncated, a);
  d.AddMember("size", t.size, a);
  d.AddMember("qos", t.qos, a);
  d.AddMember("retain", t.retain, a);
  d.AddMember("publisher", str(t.publisher, a), a);
  Value props(rapidjson::kArrayType);
  for (const auto& [k, v] : t.properties.user) {
    Value p(rapidjson::kArrayType);
    p.PushBack(str(k, a), a).PushBack(str(v, a), a);
    props.PushBack(p, a);
  }
  d.AddMember("user_properties", props, a);
  // The other application properties of the last message, those it had.
  Value other(rapidjson::kObjectType);
  const LastProperties& lp = t.properties;
  if (lp.payload_format_indicator) other.AddMember("payload_format_indicator", *lp.payload_format_indicator, a);
  if (lp.message_expiry_interval) other.AddMember("message_expiry_interval", *lp.message_expiry_interval, a);
  if (lp.content_type) other.AddMember("content_type", str(*lp.content_type, a), a);
  if (lp.response_topic) other.AddMember("response_topic", str(*lp.response_topic, a), a);
  if (lp.correlation_data) {
    other.AddMember("correlation_data_base64", str(util::base64_encode(*lp.correlation_data), a), a);
  }
  d.AddMember("properties", other, a);
  d.AddMember("kind", str(type_names(t.kind), a), a);
  if (t.place) {
    Value place(rapidjson::kObjectType);
    for (const auto& [k, v] : t.place->levels) place.AddMember(str(k, a), str(v, a), a);
    place.AddMember("tag", str(t.place->tag, a), a);
    d.AddMember("namespace", str(t.place->ns, a), a);
    d.AddMember("isa95", place, a);
  }
  if (t.model_error) d.AddMember("model_error", str(*t.model_error, a), a);
  Value contracts(rapidjson::kArrayType);
  for (const std::string& n : t.contracts) contracts.PushBack(str(n, a), a);
  d.AddMember("contracts", contracts, a);
  d.AddMember("status", lit(t.violating() ? "violating" : "ok"), a);
  if (t.last_violation) d.AddMember("last_violation", violation_json(*t.last_violation, a), a);
  d.AddMember("schema_versions", static_cast<std::uint64_t>(t.versions.size()), a);
  return d;
}

std::optional<rapidjson::Document> query_schema(const MergedCatalog& c, const std::string& topic, bool as_contract) {
  auto it = c.topics.find(topic);
  if (it == c.topics.end() || it->second.versions.empty()) return std::nullopt;
  const MergedTopic& t = it->second;
  Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  const InferredSchema& now = *t.versions[t.current].schema;
  if (as_contract) {
    // A draft-04 schema that the current version keeps: types per field,
    // every field seen in it required.
    d.AddMember("$schema", lit("http://json-schema.org/draft-04/schema#"), a);
    auto type_value = [&](std::uint8_t types) {
      Value list(rapidjson::kArrayType);
      static constexpr const char* names[] = {"null", "boolean", "integer", "number", "string", "object", "array", "string"};
      for (int i = 0; i < 8; ++i) {
        if ((types & (1u << i)) && !(i == 7 && (types & t_string))) list.PushBack(lit(names[i]), a);
      }
      if (list.Size() == 1) return Value(list[0], a);
      return list;
    };
    static_cast<Value&>(d).AddMember("type", type_value(now.fields.front().types), a);
    // The schema object of a field path, found from the root each time
    // (pointers into the document move as members are added).
    auto node_of = [&](const std::string& path) -> Value* {
      Value* at = &d;
      std::size_t pos = 1;
      while (pos <= path.size() && !path.empty()) {
        std::size_t next = path.find('/', pos);
        std::string seg = path.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
        std::string name;
        for (std::size_t i = 0; i < seg.size(); ++i) {
          if (seg[i] == '~' && i + 1 < seg.size()) {
            name += seg[i + 1] == '1' ? '/' : '~';
            ++i;
          } else {
            name += seg[i];
          }
        }
        if (seg == "*") {
          if (!at->HasMember("items")) return nullptr;
          at = &(*at)["items"];
        } else {
          if (!at->HasMember("properties")) return nullptr;
          Value& props = (*at)["properties"];
          Value key(rapidjson::StringRef(name.c_str(), static_cast<rapidjson::SizeType>(name.size())));
          if (!props.HasMember(key)) return nullptr;
          at = &props[key];
        }
        if (next == std::string::npos) break;
        pos = next + 1;
      }
      return at;
    };
    for (const Field& f : now.fields) {
      if (f.path.empty()) continue;
      auto slash = f.path.rfind('/');
      std::string parent = f.path.substr(0, slash), raw_name = f.path.substr(slash + 1);
      Value* ps = node_of(parent);
      if (ps == nullptr) continue;
      Value child(rapidjson::kObjectType);
      child.AddMember("type", type_value(f.types), a);
      if (raw_name == "*") {
        ps->AddMember("items", child, a);
        continue;
      }
      std::string name;
      for (std::size_t i = 0; i < raw_name.size(); ++i) {
        if (raw_name[i] == '~' && i + 1 < raw_name.size()) {
          name += raw_name[i + 1] == '1' ? '/' : '~';
          ++i;
        } else {
          name += raw_name[i];
        }
      }
      if (!ps->HasMember("properties")) ps->AddMember("properties", Value(rapidjson::kObjectType), a);
      if (!ps->HasMember("required")) ps->AddMember("required", Value(rapidjson::kArrayType), a);
      (*ps)["required"].PushBack(str(name, a), a);
      (*ps)["properties"].AddMember(str(name, a), child, a);
    }
    return d;
  }
  d.AddMember("topic", str(topic, a), a);
  Value versions(rapidjson::kArrayType);
  std::uint64_t total = 0;
  for (const SchemaVersion& v : t.versions) total += v.count;
  for (std::size_t i = 0; i < t.versions.size(); ++i) {
    const SchemaVersion& v = t.versions[i];
    Value o(rapidjson::kObjectType);
    o.AddMember("version", static_cast<std::uint64_t>(i + 1), a);
    o.AddMember("first_seen_ms", v.first_ms, a);
    o.AddMember("last_seen_ms", v.last_ms, a);
    o.AddMember("messages", v.count, a);
    Value fields(rapidjson::kObjectType);
    for (const Field& f : v.schema->fields) fields.AddMember(str(f.path, a), str(type_names(f.types), a), a);
    o.AddMember("fields", fields, a);
    versions.PushBack(o, a);
  }
  // Presence of each field: share of messages whose schema version has it.
  Value fields(rapidjson::kObjectType);
  std::map<std::string, std::pair<std::uint8_t, std::uint64_t>> seen;
  for (const SchemaVersion& v : t.versions) {
    for (const Field& f : v.schema->fields) {
      auto& s = seen[f.path];
      s.first |= f.types;
      s.second += v.count;
    }
  }
  for (const auto& [path, s] : seen) {
    Value o(rapidjson::kObjectType);
    o.AddMember("types", str(type_names(s.first), a), a);
    o.AddMember("presence", total == 0 ? 0.0 : static_cast<double>(s.second) / static_cast<double>(total), a);
    fields.AddMember(str(path, a), o, a);
  }
  d.AddMember("current_version", t.current + 1, a);
  d.AddMember("fields", fields, a);
  d.AddMember("versions", versions, a);
  return d;
}

rapidjson::Document query_violations(const std::vector<const std::deque<ViolationRecord>*>& cores, std::size_t offset,
                                     std::size_t limit) {
  std::vector<const ViolationRecord*> all;
  for (const auto* q : cores) {
    for (const ViolationRecord& v : *q) all.push_back(&v);
  }
  std::stable_sort(all.begin(), all.end(), [](const auto* x, const auto* y) { return x->at_ms > y->at_ms; });
  Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Value items(rapidjson::kArrayType);
  for (std::size_t i = offset; i < all.size() && items.Size() < limit; ++i) items.PushBack(violation_json(*all[i], a), a);
  d.AddMember("total", static_cast<std::uint64_t>(all.size()), a);
  d.AddMember("items", items, a);
  return d;
}

}  // namespace strata::uns
