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
// - SUBSCRIBE to filter F (read; a "$share/group/" prefix is ignored) is
//   decided once, as the filter's read access (ReadAccess):
//     all   an allow rule's filter covers F (every topic F can match, the
//           rule matches too) and no deny rule's filter overlaps F (no
//           topic matches both): granted, delivered without further checks;
//     none  no allow rule overlaps F, or what each allow rule shares with F
//           is covered by one deny rule: refused (0x87);
//     some  otherwise: granted, and each message is delivered only if its
//           topic may be read (can_read), retained ones on subscribe too.
//   So `#` under `deny read plant/secret` receives everything readable but
//   plant/secret. The decision is conservative one way only: a filter the
//   rules allow wholly through several rules together is `some`, never a
//   readable topic refused.
// - A message on topic T may be read: denied if a deny rule matches T,
//   allowed if an allow rule matches T.
// - %u / %c are replaced by the username / client id. A rule with %u never
//   matches a client without a username, nor one whose username or client
//   id contains '/', '+' or '#' (which would widen the rule).
//
// Parsing reports file:line. The Acl is immutable once built; reload builds
// a new one.
#pragma once

#include <cstdint>
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

// What a subscription's filter may receive (see above).
enum class ReadAccess : std::uint8_t { all, some, none };

class Acl {
 public:
  static Acl load(const std::string& path);
  static Acl parse(std::string_view text, const std::string& name);

  bool can_publish(std::string_view username, std::string_view client_id, std::string_view topic) const;
  ReadAccess read_access(std::string_view username, std::string_view client_id, std::string_view filter) const;
  bool can_read(std::string_view username, std::string_view client_id, std::string_view topic) const;

  std::size_t rule_count() const noexcept;

 private:
  struct Rule {
    bool allow = true;
    bool read = false;
    bool write = false;
    bool substitutes = false;  // contains %u or %c
    std::string filter;
  };
  // Calls fn(rule, filter) for the rules that apply to the client, the
  // filter with %u / %c substituted (valid only during the call); stops
  // when fn returns false.
  template <class Fn>
  void for_each_rule(std::string_view username, std::string_view client_id, Fn&& fn) const;
  // May the client write (publish) or read `topic`?
  bool decide(std::string_view username, std::string_view client_id, std::string_view topic, bool write) const;

  std::vector<Rule> defaults_;
  std::unordered_map<std::string, std::vector<Rule>> users_;
  std::unordered_map<std::string, std::vector<Rule>> clients_;
};

// Filter relations used by the ACL (exposed for tests). Both arguments are
// valid topic filters; a '$' first level is not matched by a wildcard.
bool filter_covers(std::string_view rule, std::string_view filter) noexcept;
bool filters_overlap(std::string_view a, std::string_view b) noexcept;
// The filter matching exactly the topics both match (empty: none, as no
// valid filter is empty).
std::string filter_intersection(std::string_view a, std::string_view b);

}  // namespace strata::auth
