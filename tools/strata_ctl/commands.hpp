// The command groups: each add_*_commands function (one file each) adds its
// commands to the table; commands.cpp calls them all.
#pragma once

#include "tools/strata_ctl/command.hpp"

namespace strata::ctl {

void add_status_commands(Registry& r);    // cmd_status.cpp: status, reload, metrics
void add_login_commands(Registry& r);     // cmd_login.cpp: login, logout
void add_clients_commands(Registry& r);   // cmd_clients.cpp: clients, sessions
void add_subs_commands(Registry& r);      // cmd_subs.cpp: subs
void add_retained_commands(Registry& r);  // cmd_retained.cpp: retained, publish
void add_rules_commands(Registry& r);     // cmd_rules.cpp: rules
void add_history_commands(Registry& r);   // cmd_history.cpp: history
void add_topics_commands(Registry& r);    // cmd_topics.cpp: topics (the namespace's catalog)
void add_contracts_commands(Registry& r); // cmd_contracts.cpp: contracts
void add_bridges_commands(Registry& r);   // cmd_bridges.cpp: bridges

}  // namespace strata::ctl
