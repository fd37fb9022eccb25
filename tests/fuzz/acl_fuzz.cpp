// libFuzzer target for the ACL file parser and the filter relations it
// decides with (broker/auth/acl.hpp): an operator writes the file, and a
// mistake in it must be a file:line error, never a crash.
//
// The input is an ACL file. When it parses, every word of it that is a
// valid topic filter (at most 16) is asked about, as a username "u" with
// client id "c" would be. Required:
// - a topic name (no wildcard, not "$share/...") is never `some`: it is `all` exactly when
//   can_read says it may be read, else `none`;
// - the intersection of two filters is empty exactly when they do not
//   overlap; when not empty it is a valid filter both of them cover;
// - a rule's filter covers itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/auth/acl.hpp"
#include "broker/router/topic.hpp"

namespace {

using namespace strata;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auth::Acl acl;
  try {
    acl = auth::Acl::parse(text, "acl");
  } catch (const auth::AclError& e) {
    require(std::string_view(e.what()).starts_with("acl:"));
    return 0;
  }
  std::vector<std::string_view> filters;
  std::size_t i = 0;
  while (i < text.size() && filters.size() < 16) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r') ++i;
    const std::string_view word = text.substr(start, i - start);
    if (!word.empty() && router::is_valid_topic_filter(word)) filters.push_back(word);
  }
  for (std::string_view f : filters) {
    const auth::ReadAccess access = acl.read_access("u", "c", f);
    require(auth::filter_covers(f, f));
    // "$share/..." is read as a shared subscription, never as a topic name.
    if (router::is_valid_topic_name(f) && !f.starts_with("$share/")) {
      require(access != auth::ReadAccess::some);
      require((access == auth::ReadAccess::all) == acl.can_read("u", "c", f));
    }
    (void)acl.can_publish("u", "c", f);
    for (std::string_view g : filters) {
      const std::string both = auth::filter_intersection(f, g);
      require(both.empty() != auth::filters_overlap(f, g));
      if (!both.empty()) {
        require(router::is_valid_topic_filter(both));
        require(auth::filter_covers(f, both) && auth::filter_covers(g, both));
      }
    }
  }
  return 0;
}
