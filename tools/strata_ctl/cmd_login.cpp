// login, logout: a bearer token for `auth = "login"` brokers, kept in the
// token file (token_file.hpp) for the commands that follow.
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "tools/strata_ctl/commands.hpp"
#include "tools/strata_ctl/context.hpp"
#include "tools/strata_ctl/token_file.hpp"

namespace strata::ctl {

namespace {

// One line from stdin after a prompt on stderr; without echo for passwords
// when stdin is a terminal.
std::string ask(Context& c, const std::string& prompt, bool secret) {
  c.err() << prompt << std::flush;
  termios old{};
  bool tty = ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (secret && tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (secret && tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    c.err() << "\n";
  }
  if (!got) throw CtlError("no " + std::string(secret ? "password" : "username") + " given");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

void add_login_commands(Registry& r) {
  r.add({"login", "", "", 0, 0,
         {{"--username", 1, "USER", "the user (asked for when not given)"},
          {"--password", 1, "PASSWORD", "the password (asked for when not given; visible to ps: prefer the prompt)"}},
         "Log in (auth = \"login\") and keep the token in ~/.config/strata/token",
         [](Context& c, const Args& a) {
           std::string user = a.value("--username").value_or("");
           if (user.empty()) user = ask(c, "Username: ", false);
           std::string password = a.has("--password") ? *a.value("--password") : ask(c, "Password: ", true);
           c.client().set_authorization({});
           std::string body = "{\"username\":" + json_string(user) + ",\"password\":" + json_string(password) + "}";
           HttpResponse res = c.call("POST", "/api/v1/login", body);
           rapidjson::Document d = parse_json(res.body);
           const rapidjson::Value* token = member_at(d, "token");
           if (!token || !token->IsString()) throw CtlError("the login answer has no token");
           std::string path = token_path();
           write_token(path, token->GetString());
           const rapidjson::Value* role = member_at(d, "role");
           const rapidjson::Value* until = member_at(d, "expires_at");
           c.print(res, "Logged in as " + user + " (" + (role ? cell_text(*role) : "-") + ") until " +
                            (until ? cell_text(*until) : "-") + "; token saved in " + path + "\n");
           return 0;
         }});
  r.add({"logout", "", "", 0, 0, {}, "Revoke the token and remove the token file", [](Context& c, const Args&) {
           const std::string& auth = c.client().options().authorization;
           std::string path = token_path();
           if (auth.rfind("Bearer ", 0) != 0) throw CtlError("not logged in: no token to revoke");
           // The file goes (when it holds this token) even when the server no
           // longer knows the token.
           bool removed = read_token(path) == auth.substr(7) && remove_token(path);
           HttpResponse res = c.call("POST", "/api/v1/logout");
           c.print(res, std::string("Logged out") + (removed ? "; removed " + path : "") + "\n");
           return 0;
         }});
}

}  // namespace strata::ctl
