#include "broker/config/table_reader.hpp"

#include <algorithm>

namespace strata::config {

std::string position(const std::string& file, const toml::source_region& where) {
  return file + ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column);
}

std::string_view type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

std::string joined(std::span<const std::string_view> words) {
  std::string out;
  for (auto w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

const toml::table& section_table(const std::string& file, const toml::table& root, std::string_view name) {
  static const toml::table empty;
  const toml::node* node = root.get(name);
  if (!node) return empty;
  const toml::table* t = node->as_table();
  if (!t) {
    throw ConfigError(position(file, node->source()) + ": '" + std::string(name) + "' must be a table ([" +
                      std::string(name) + "]), got " + std::string(type_name(node->type())));
  }
  return *t;
}

std::vector<const toml::table*> section_tables(const std::string& file, const toml::table& root,
                                               std::string_view name) {
  std::vector<const toml::table*> out;
  const toml::node* node = root.get(name);
  if (!node) return out;
  const toml::array* a = node->as_array();
  auto not_tables = [&](const toml::node& where) {
    return ConfigError(position(file, where.source()) + ": '" + std::string(name) +
                       "' must be an array of tables ([[" + std::string(name) + "]]), got " +
                       std::string(type_name(where.type())));
  };
  if (!a) throw not_tables(*node);
  for (const toml::node& item : *a) {
    const toml::table* t = item.as_table();
    if (!t) throw not_tables(item);
    out.push_back(t);
  }
  return out;
}

void TableReader::reject_unknown_keys(const Section& section) const {
  for (auto&& [key, value] : table_) {
    if (std::find(section.keys.begin(), section.keys.end(), key.str()) != section.keys.end()) continue;
    fail(key.source(), "unknown key '" + std::string(key.str()) + "' in " + (section.array ? "[[" : "[") +
                           std::string(section.name) + (section.array ? "]]" : "]") +
                           "; expected one of: " + joined(section.keys));
  }
}

long long TableReader::checked_integer(const toml::node& node, std::string_view key, long long lo,
                                       long long hi) const {
  std::string range = std::to_string(lo) + ".." + std::to_string(hi);
  const auto* v = node.as_integer();
  if (!v) {
    fail(node.source(), label_ + std::string(key) + " must be an integer in " + range + ", got " +
                            std::string(type_name(node.type())));
  }
  long long n = v->get();
  if (n < lo || n > hi) {
    fail(node.source(), label_ + std::string(key) + " = " + std::to_string(n) +
                            " is out of range; expected an integer in " + range);
  }
  return n;
}

void TableReader::boolean(std::string_view key, bool& out) const {
  const toml::node* node = find(key);
  if (!node) return;
  const auto* v = node->as_boolean();
  if (!v) {
    fail(node->source(), label_ + std::string(key) + " must be true or false, got " +
                             std::string(type_name(node->type())));
  }
  out = v->get();
}

const toml::value<std::string>* TableReader::string(std::string_view key) const {
  const toml::node* node = find(key);
  if (!node) return nullptr;
  const auto* v = node->as_string();
  if (!v) {
    fail(node->source(), label_ + std::string(key) + " must be a string, got " +
                             std::string(type_name(node->type())));
  }
  return v;
}

void TableReader::text(std::string_view key, std::string& out, bool allow_empty) const {
  const auto* v = string(key);
  if (!v) return;
  if (!allow_empty && v->get().empty()) fail(v->source(), label_ + std::string(key) + " is empty");
  out = v->get();
}

void TableReader::strings(std::string_view key, std::vector<std::string>& out) const {
  const toml::node* node = find(key);
  if (!node) return;
  const toml::array* a = node->as_array();
  if (!a) {
    fail(node->source(), label_ + std::string(key) + " must be an array of strings, got " +
                             std::string(type_name(node->type())));
  }
  std::vector<std::string> values;
  for (const toml::node& item : *a) {
    const auto* s = item.as_string();
    if (!s) {
      fail(item.source(), label_ + std::string(key) + " must hold only strings, got " +
                              std::string(type_name(item.type())));
    }
    values.push_back(s->get());
  }
  out = std::move(values);
}

const toml::table* TableReader::subtable(std::string_view key) const {
  const toml::node* node = find(key);
  if (!node) return nullptr;
  const toml::table* t = node->as_table();
  if (!t) {
    fail(node->source(), label_ + std::string(key) + " must be a table, got " + std::string(type_name(node->type())));
  }
  return t;
}

}  // namespace strata::config
