// The built-in endpoints, one file per resource. Each add_*_api() adds
// its routes (and metrics) to the server's Api; Server's constructor
// calls add_builtin_endpoints().
#pragma once

namespace strata::admin {

class Server;

void add_builtin_endpoints(Server& server);

void add_status_api(Server& server);   // status_api.cpp: /status, /stats, /metrics
void add_auth_api(Server& server);     // auth_api.cpp: /login, /logout
void add_clients_api(Server& server);  // clients_api.cpp: /clients, /sessions, /subscriptions
void add_retained_api(Server& server); // retained_api.cpp: /retained, /publish
void add_config_api(Server& server);   // config_api.cpp: /config, /reload
void add_docs_api(Server& server);     // docs_api.cpp: /openapi.json, /routes
void add_history_api(Server& server);  // history_api.cpp: /stats/history, /alarms

}  // namespace strata::admin
