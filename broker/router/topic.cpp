// Topic names and topic filters.
//
// A topic name is what a PUBLISH is sent to; a topic filter is what a
// SUBSCRIBE asks for. Both are split into levels by '/'. Levels may be
// empty: "a//b" has three levels ("a", "", "b"), "/a" has two ("", "a"),
// "/" has two empty ones. Matching is by level, byte for byte, case
// sensitive; there is no normalisation ("a/b" and "a/b/" differ).
//
// A filter may use two wildcards, each of which must fill a whole level:
//   '+'  matches exactly one level, whatever it holds (also an empty one);
//   '#'  matches the parent level and any number of levels below it, so it
//        must be the last level: "a/#" matches "a", "a/b" and "a/b/c".
// A topic name may use neither.
//
// Topics that start with '$' ($SYS/..., broker internals) are not matched
// by a filter whose first level is a wildcard: "#" and "+/x" do not see
// "$SYS/x"; "$SYS/#" does.
//
// A shared subscription is "$share/{group}/{filter}": the group (share
// name) is one non-empty level without '+' or '#', the filter after it is
// a non-empty valid filter. Each message matching the filter goes to one
// member of the group (see topic_trie.cpp).
//
// Valid topic names:      "a", "a/b", "/", "/a", "a/", "a//b", "$SYS/x",
//                         " ", "sport/tennis/player1"
// Invalid topic names:    "" (empty), "a/+", "+", "#", "a/#", "a+b", "a#",
//                         anything containing U+0000
// Valid topic filters:    "#", "+", "a/#", "a/+", "+/+", "+/b/#", "/+",
//                         "a//b", "/", "$SYS/#", "a/b/c"
// Invalid topic filters:  "" (empty), "a/#/b", "#/a", "a#", "a/b#", "a+",
//                         "+a", "a/+b/c", "##", "++", anything with U+0000
// Valid shared filters:   "$share/g/a", "$share/g/#", "$share/g/+/b",
//                         "$share/g//a" (filter "/a")
// Invalid shared filters: "$share/", "$share/g", "$share/g/" (no filter),
//                         "$share//a" (empty group), "$share/g+/a",
//                         "$share/#/a", "$share/g/a/#/b" (bad filter)
// Not shared filters:     "$share" (a plain filter), "$shared/g/a",
//                         "a/$share/g/b"
//
// Matching table (filter vs topic):
//   sport/tennis/player1/#   sport/tennis/player1            yes
//   sport/tennis/player1/#   sport/tennis/player1/ranking    yes
//   sport/#                  sport                           yes
//   sport/tennis/+           sport/tennis/player1            yes
//   sport/tennis/+           sport/tennis                    no
//   sport/+                  sport/                          yes
//   +                        /finance                        no
//   +/+                      /finance                        yes
//   /+                       /finance                        yes
//   #                        $SYS/x                          no
//   +/monitor/Clients        $SYS/monitor/Clients            no
//   $SYS/#                   $SYS/monitor/Clients            yes
//   $SYS/monitor/+           $SYS/monitor/Clients            yes
//
// Everything here works on string_views and allocates nothing.
#include "broker/router/topic.hpp"

#include <cstddef>
#include <cstdint>

#include "broker/util/byte_scan.hpp"

namespace strata::router {
namespace {

constexpr std::size_t kMaxLength = 65535;  // an MQTT UTF-8 string's limit
constexpr std::string_view kSharePrefix = "$share/";

}  // namespace

bool is_valid_topic_name(std::string_view topic) noexcept {
  if (topic.empty() || topic.size() > kMaxLength) return false;
  const std::size_t n = topic.size();
  std::size_t i = 0;
  for (; n - i >= 8; i += 8) {  // eight bytes at a time (util/byte_scan.hpp)
    const std::uint64_t w = util::load_word(topic.data() + i);
    if ((util::equal_bytes(w, '+') | util::equal_bytes(w, '#') | util::equal_bytes(w, 0)) != 0) return false;
  }
  for (; i < n; ++i) {
    const char c = topic[i];
    if (c == '+' || c == '#' || c == '\0') return false;
  }
  return true;
}

bool is_valid_topic_filter(std::string_view filter) noexcept {
  if (filter.empty() || filter.size() > kMaxLength) return false;
  const std::size_t n = filter.size();
  for (std::size_t i = 0; i < n; ++i) {
    const char c = filter[i];
    if (c == '\0') return false;
    if (c != '+' && c != '#') continue;
    // A wildcard must be alone in its level.
    const bool starts_level = i == 0 || filter[i - 1] == '/';
    const bool ends_level = i + 1 == n || filter[i + 1] == '/';
    if (!starts_level || !ends_level) return false;
    // '#' must also be the last level.
    if (c == '#' && i + 1 != n) return false;
  }
  return true;
}

std::optional<SharedFilter> parse_shared_filter(std::string_view filter, bool& valid) noexcept {
  valid = true;
  if (!filter.starts_with(kSharePrefix)) return std::nullopt;
  const std::string_view rest = filter.substr(kSharePrefix.size());
  const std::size_t slash = rest.find('/');
  SharedFilter out{rest.substr(0, slash), {}};
  if (slash != std::string_view::npos) out.filter = rest.substr(slash + 1);
  valid = slash != std::string_view::npos && !out.group.empty() &&
          out.group.find_first_of("+#") == std::string_view::npos &&
          is_valid_topic_filter(out.filter);
  return out;
}

bool topic_matches(std::string_view filter, std::string_view topic) noexcept {
  if (!topic.empty() && topic.front() == '$' && !filter.empty() &&
      (filter.front() == '+' || filter.front() == '#')) {
    return false;
  }
  std::size_t fi = 0;
  std::size_t ti = 0;
  for (;;) {
    const std::size_t fend = filter.find('/', fi);
    const std::string_view flevel = filter.substr(fi, fend - fi);
    if (flevel == "#") return true;
    const std::size_t tend = topic.find('/', ti);
    const std::string_view tlevel = topic.substr(ti, tend - ti);
    if (flevel != "+" && flevel != tlevel) return false;
    const bool filter_done = fend == std::string_view::npos;
    const bool topic_done = tend == std::string_view::npos;
    if (filter_done) return topic_done;
    // The topic ran out of levels: only a final "/#" still matches
    // ("a/#" matches "a").
    if (topic_done) return filter.substr(fend + 1) == "#";
    fi = fend + 1;
    ti = tend + 1;
  }
}

std::size_t topic_levels(std::string_view topic) noexcept {
  std::size_t levels = 1;
  const std::size_t n = topic.size();
  std::size_t i = 0;
  for (; n - i >= 8; i += 8) {  // eight bytes at a time (util/byte_scan.hpp)
    levels += static_cast<std::size_t>(util::marked_bytes(util::equal_bytes(util::load_word(topic.data() + i), '/')));
  }
  for (; i < n; ++i) levels += topic[i] == '/' ? 1 : 0;
  return levels;
}

}  // namespace strata::router
