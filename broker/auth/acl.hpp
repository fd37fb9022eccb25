// The ACL file: who may publish (write) and subscribe (read) where.
//
//   # rules before any section apply to every client
//   allow read $SYS/#
//   allow readwrite devices/%u/#      # %u: the username, %c: the client id
//   user alice                        # rules for username "alice"
//   allow readwrite plant/#
//   deny write plant/+/setpoint
//   client gateway-7                  # rules for client id "gateway-7"
//   allow write plant/line7/#
//
// A rule is `allow|deny read|write|readwrite FILTER`, FILTER a topic filter
// with + and #. The rules that apply to a client are the default ones plus
// those of its username's section and of its client id's section (a name
// may have several sections; they add up). With an ACL file, what no rule
// allows is denied, and a matching deny overrides any allow.
//
// - PUBLISH to topic T (write): denied if a deny rule matches T, allowed if
//   an allow rule matches T.
// - SUBSCRIBE to filter F (read; a "$share/group/" prefix is ignored):
//   allowed if an allow rule's filter covers F (every topic F can match,
//   the rule matches too) and no deny rule's filter overlaps F (no topic
//   matches both). So with `deny read plant/secret`, a subscription to
//   `plant/#` is refused rather than silently filtered.
// - %u / %c are replaced by the username / client id. A rule with %u never
//   matches a client without a username, nor one whose username or client
//   id contains '/', '+' or '#' (which would widen the rule).
//
// Parsing reports file:line. The Acl is immutable once built; reload builds
// a new one.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace strata::auth {

class AclError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;  // "file:line: what"
};

class Acl {
 public:
  static Acl load(const std::string& path);
  static Acl parse(std::string_view text, const std::string& name);

  bool can_publish(std::string_view username, std::string_view client_id, std::string_view topic) const;
  bool can_subscribe(std::string_view username, std::string_view client_id, std::string_view filter) const;

  std::size_t rule_count() const noexcept;

 private:
  struct Rule {
    bool allow = true;
    bool read = false;
    bool write = false;
    bool substitutes = false;  // contains %u or %c
    std::string filter;
  };
  enum class Check : unsigned char { publish, subscribe };
  // kind: publish -> match topic; subscribe -> cover/overlap filter.
  bool decide(std::string_view username, std::string_view client_id, std::string_view what, Check kind) const;

  std::vector<Rule> defaults_;
  std::unordered_map<std::string, std::vector<Rule>> users_;
  std::unordered_map<std::string, std::vector<Rule>> clients_;
};

// Filter relations used by the ACL (exposed for tests). Both arguments are
// valid topic filters; a '$' first level is not matched by a wildcard.
bool filter_covers(std::string_view rule, std::string_view filter) noexcept;
bool filters_overlap(std::string_view a, std::string_view b) noexcept;

}  // namespace strata::auth
