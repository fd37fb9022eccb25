// strata-passwd: adds, changes and deletes users in a Strata password file
// (format: broker/auth/password_file.hpp), in the manner of mosquitto_passwd.
//
//   strata-passwd [-c] [-i N] [-s N] FILE USER    password from the terminal (asked twice) or stdin
//   strata-passwd -b [-c] [-i N] [-s N] FILE USER PASSWORD
//   strata-passwd -D FILE USER
//   strata-passwd --admin [-r admin|viewer] [-b] [-c] FILE USER [PASSWORD]
//
// --admin writes the admin API's users file instead (broker/auth/admin_users.hpp:
// "user:role:hash" lines; role admin by default, -r viewer for read-only).
//
// -c creates FILE (replacing it); without -c FILE must exist. -i sets the
// PBKDF2-HMAC-SHA512 iterations of the password hash (default 10000), -s
// those of the SCRAM-SHA-256 credentials written next to it (default 4096;
// a SCRAM client repeats them on each login). The file is rewritten
// atomically with mode 0600. Then send SIGHUP to the broker to apply it.
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "broker/auth/admin_users.hpp"
#include "broker/auth/password_file.hpp"

namespace {

int usage(int code) {
  (code == 0 ? std::cout : std::cerr)
      << "Usage: strata-passwd [-c] [-i ITERATIONS] [-s ITERATIONS] FILE USER\n"
         "       strata-passwd -b [-c] [-i ITERATIONS] [-s ITERATIONS] FILE USER PASSWORD\n"
         "       strata-passwd -D FILE USER\n"
         "       strata-passwd --admin [-r admin|viewer] [-b] [-c] [-D] FILE USER [PASSWORD]\n"
         "  --admin  FILE is the admin API's users file ([admin] users_file)\n"
         "  -r       the admin user's role: admin (default) or viewer (read-only)\n"
         "  -c  create FILE, replacing an existing one\n"
         "  -b  take the password from the command line\n"
         "  -D  delete USER\n"
         "  -i  PBKDF2-HMAC-SHA512 iterations (default 10000, 1000..10000000)\n"
         "  -s  SCRAM-SHA-256 iterations (default 4096, 4096..10000000)\n";
  return code;
}

// One line from stdin; without echo when it is a terminal.
bool read_password(const char* prompt, std::string& out) {
  bool tty = ::isatty(STDIN_FILENO) != 0;
  termios saved{};
  if (tty) {
    std::cerr << prompt << std::flush;
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  bool ok = static_cast<bool>(std::getline(std::cin, out));
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  }
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace strata::auth;
  bool create = false, batch = false, remove = false, admin = false;
  AdminRole role = AdminRole::admin;
  unsigned iterations = default_pbkdf2_iterations;
  unsigned scram_iterations = default_scram_iterations;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") return usage(0);
    if (a == "--admin") {
      admin = true;
    } else if (a == "-r" && i + 1 < argc) {
      if (!parse_admin_role(argv[++i], role)) {
        std::cerr << "strata-passwd: -r takes admin or viewer\n";
        return 2;
      }
    } else if (a == "-c") {
      create = true;
    } else if (a == "-b") {
      batch = true;
    } else if (a == "-D") {
      remove = true;
    } else if ((a == "-i" || a == "-s") && i + 1 < argc) {
      const unsigned long lo = a == "-i" ? 1000 : min_scram_iterations;
      char* end = nullptr;
      unsigned long n = std::strtoul(argv[++i], &end, 10);
      if (*end != '\0' || n < lo || n > 10000000) {
        std::cerr << "strata-passwd: " << a << " takes a number in " << lo << "..10000000\n";
        return 2;
      }
      (a == "-i" ? iterations : scram_iterations) = static_cast<unsigned>(n);
    } else if (a.size() > 1 && a[0] == '-') {
      std::cerr << "strata-passwd: unknown option " << a << "\n";
      return usage(2);
    } else {
      args.push_back(a);
    }
  }
  std::size_t want = batch ? 3 : 2;
  if (args.size() != want || (remove && (batch || create))) return usage(2);
  const std::string& file = args[0];
  const std::string& user = args[1];
  if (!valid_username(user)) {
    std::cerr << "strata-passwd: invalid username (empty, or contains ':' or control characters)\n";
    return 1;
  }
  try {
    if (admin) {
      AdminUserMap users;
      if (!create) users = load_admin_users(file);
      if (remove) {
        if (users.erase(user) == 0) {
          std::cerr << "strata-passwd: no user '" << user << "' in " << file << "\n";
          return 1;
        }
      } else {
        std::string password;
        if (batch) {
          password = args[2];
        } else if (!read_password("Password: ", password)) {
          std::cerr << "strata-passwd: no password given\n";
          return 1;
        }
        users[user] = AdminUser{role, hash_password(password, iterations)};
      }
      save_admin_users(file, users);
      return 0;
    }
    PasswordMap users;
    if (!create) users = load_password_file(file);
    if (remove) {
      if (users.erase(user) == 0) {
        std::cerr << "strata-passwd: no user '" << user << "' in " << file << "\n";
        return 1;
      }
    } else {
      std::string password;
      if (batch) {
        password = args[2];
      } else {
        if (!read_password("Password: ", password)) {
          std::cerr << "strata-passwd: no password given\n";
          return 1;
        }
        if (::isatty(STDIN_FILENO)) {
          std::string again;
          if (!read_password("Reenter password: ", again) || again != password) {
            std::cerr << "strata-passwd: passwords do not match\n";
            return 1;
          }
        }
      }
      users[user] = make_password_entry(password, iterations, scram_iterations);
    }
    save_password_file(file, users);
  } catch (const PasswordError& e) {
    std::cerr << "strata-passwd: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
