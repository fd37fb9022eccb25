// The shared TOML helpers every module's config section is read with.
//
// broker/config/ reads the core sections ([broker], [[listener]], [limits],
// [sys], [store], [rules], [auth]); a module that owns a section (admin/,
// uns/, historian/, bridges/, plugins/) reads it itself from
// Config::document with a TableReader, so every error has the same form:
// "file:line:column: what was wrong; what was expected".
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include <toml++/toml.h>

#include "broker/config/config.hpp"

namespace strata::config {

// The parsed file a Config came from: modules read their sections here.
struct Document {
  std::string name;  // the file name used in error messages
  toml::table root;
};

// A table and the keys it may hold.
struct Section {
  std::string_view name;  // as written in the file: "broker", "listener", "listener.limits", ...
  std::span<const std::string_view> keys;
  bool array = false;     // [[name]]: an array of tables
};

// "file:line:column" of `where`.
std::string position(const std::string& file, const toml::source_region& where);
// "a string", "an integer", ...: what a node is, for messages.
std::string_view type_name(toml::node_type t);
// "a, b, c"
std::string joined(std::span<const std::string_view> words);

// The top-level table `name` of `root`, or an empty table when absent;
// throws if `name` is there but not a table.
const toml::table& section_table(const std::string& file, const toml::table& root, std::string_view name);

// The tables of the array of tables `name` ([[name]]); empty when absent.
// Throws if `name` is there but not an array of tables.
std::vector<const toml::table*> section_tables(const std::string& file, const toml::table& root,
                                               std::string_view name);

// Reads the keys of one table, checking each against its expected type and
// range. `label` prefixes key names in messages ("limits.", "listener.").
class TableReader {
 public:
  TableReader(const std::string& file, const toml::table& table, std::string label)
      : file_(file), table_(table), label_(std::move(label)) {}

  [[noreturn]] void fail(const toml::source_region& where, const std::string& what) const {
    throw ConfigError(position(file_, where) + ": " + what);
  }

  // Fails on the first key that `section` does not list.
  void reject_unknown_keys(const Section& section) const;

  const toml::node* find(std::string_view key) const { return table_.get(key); }
  const toml::table& table() const noexcept { return table_; }
  const std::string& file() const noexcept { return file_; }
  const std::string& label() const noexcept { return label_; }

  template <typename T>
  void integer(std::string_view key, long long lo, long long hi, T& out) const {
    const toml::node* node = find(key);
    if (!node) return;
    long long n = checked_integer(*node, key, lo, hi);
    if constexpr (std::is_same_v<T, std::chrono::seconds> || std::is_same_v<T, std::chrono::milliseconds>) {
      out = T(n);
    } else {
      out = static_cast<T>(n);
    }
  }

  void boolean(std::string_view key, bool& out) const;

  // The string at `key` (nullptr when absent); fails if it is not a string.
  const toml::value<std::string>* string(std::string_view key) const;

  // The string at `key` into `out` when present; fails if empty and
  // `allow_empty` is false.
  void text(std::string_view key, std::string& out, bool allow_empty = false) const;

  // An array of strings at `key` into `out` when present.
  void strings(std::string_view key, std::vector<std::string>& out) const;

  // The sub-table at `key` (nullptr when absent); fails if not a table.
  const toml::table* subtable(std::string_view key) const;

 private:
  long long checked_integer(const toml::node& node, std::string_view key, long long lo, long long hi) const;

  const std::string& file_;
  const toml::table& table_;
  std::string label_;
};

// One of `names` (a string key), as its index; `fallback` when absent.
template <typename E, std::size_t N>
E choice(const TableReader& r, std::string_view key, const std::string_view (&names)[N], E fallback) {
  const auto* v = r.string(key);
  if (!v) return fallback;
  for (std::size_t i = 0; i < N; ++i) {
    if (v->get() == names[i]) return static_cast<E>(i);
  }
  std::string expected;
  for (std::size_t i = 0; i < N; ++i) expected += (i == 0 ? "" : i + 1 == N ? " or " : ", ") + std::string(names[i]);
  r.fail(v->source(), r.label() + std::string(key) + " '" + v->get() + "' is not valid; expected " + expected);
}

}  // namespace strata::config
