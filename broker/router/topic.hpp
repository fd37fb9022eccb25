// Topic names and topic filters (MQTT 5.0 spec 4.7, 3.1.1 spec 4.7).
// Implementation and the full list of valid/invalid examples: topic.cpp.
#pragma once

#include <optional>
#include <string_view>

namespace strata::router {

// A topic name a client may PUBLISH to: non-empty, no '+' or '#', no U+0000.
// (UTF-8 well-formedness is checked by the codec.)
bool is_valid_topic_name(std::string_view topic) noexcept;

// A topic filter a client may SUBSCRIBE to: '#' only last and alone in its
// level, '+' alone in its level. A "$share/group/filter" is checked with
// parse_shared_filter first.
bool is_valid_topic_filter(std::string_view filter) noexcept;

struct SharedFilter {
  std::string_view group;   // share name: non-empty, no '/', '+', '#'
  std::string_view filter;  // the filter proper, valid per is_valid_topic_filter
};

// Splits "$share/group/filter". Returns nullopt when `filter` does not start
// with "$share/" (and sets `valid` to true: it is not a malformed shared
// filter; check it with is_valid_topic_filter). Otherwise returns the parts
// and sets `valid` to false if the shared filter is malformed.
std::optional<SharedFilter> parse_shared_filter(std::string_view filter, bool& valid) noexcept;

// True if `topic` matches `filter`. Topics starting with '$' are not matched
// by filters starting with '+' or '#' (spec 4.7.2).
bool topic_matches(std::string_view filter, std::string_view topic) noexcept;

// Number of levels ("a/b/c" has 3; "" and "/" count as 1 and 2).
std::size_t topic_levels(std::string_view topic) noexcept;

}  // namespace strata::router
