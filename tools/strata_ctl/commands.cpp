#include "tools/strata_ctl/commands.hpp"

namespace strata::ctl {

Registry all_commands() {
  Registry r;
  // One line per command group, in the order `strata-ctl --help` lists them.
  add_status_commands(r);
  add_login_commands(r);
  add_clients_commands(r);
  add_subs_commands(r);
  add_retained_commands(r);
  add_rules_commands(r);
  add_history_commands(r);
  add_topics_commands(r);
  add_contracts_commands(r);
  add_bridges_commands(r);
  return r;
}

}  // namespace strata::ctl
