// Reading [[bridge_session]] tables; the model is in bridge_session_config.hpp.
#include "bridges/bridge_session_config.hpp"

#include <set>

#include "broker/config/table_reader.hpp"

namespace strata::bridges {

namespace {

constexpr std::string_view kKeys[] = {"client_id", "max_bytes", "max_messages", "max_age", "overflow", "block_timeout"};

}  // namespace

bool client_id_matches(std::string_view pattern, std::string_view id) {
  // Greedy matching with backtracking to the last '*': linear in practice.
  std::size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < id.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = i;
    } else if (p < pattern.size() && pattern[p] == id[i]) {
      ++p;
      ++i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

const BridgeSessionConfig* find_bridge_session(const std::vector<BridgeSessionConfig>& all, std::string_view id) {
  for (const BridgeSessionConfig& b : all) {
    if (client_id_matches(b.client_id, id)) return &b;
  }
  return nullptr;
}

std::string session_log_name(std::string_view client_id) { return "session:" + std::string(client_id); }

std::vector<BridgeSessionConfig> read_bridge_sessions(const config::Document& doc) {
  std::vector<BridgeSessionConfig> out;
  std::set<std::string, std::less<>> seen;
  static const config::Section section{"bridge_session", kKeys, true};
  for (const toml::table* t : config::section_tables(doc.name, doc.root, "bridge_session")) {
    config::TableReader r(doc.name, *t, "bridge_session.");
    r.reject_unknown_keys(section);
    BridgeSessionConfig b;
    b.where = config::position(doc.name, t->source());
    const auto* id = r.string("client_id");
    if (!id) r.fail(t->source(), "[[bridge_session]] has no client_id; expected client_id = \"factory-1\" or a pattern such as \"factory-*\"");
    if (id->get().empty() || id->get().size() > 65535 || id->get().find('\0') != std::string::npos) {
      r.fail(id->source(), "bridge_session.client_id must be 1 to 65535 characters (no NUL)");
    }
    if (!seen.insert(id->get()).second) {
      r.fail(id->source(), "bridge_session.client_id '" + id->get() + "' is named by another [[bridge_session]]");
    }
    b.client_id = id->get();
    read_bounds(r, b.bounds);
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace strata::bridges
