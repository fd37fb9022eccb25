#include "tools/strata_ctl/token_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "tools/strata_ctl/context.hpp"

namespace strata::ctl {

namespace {

void make_dirs(const std::string& dir) {
  for (std::size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      std::string part = dir.substr(0, i);
      if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
        throw CtlError("cannot create " + part + ": " + std::strerror(errno));
      }
    }
  }
}

}  // namespace

std::string token_path() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg && *xdg) return std::string(xdg) + "/strata/token";
  const char* home = std::getenv("HOME");
  if (home && *home) return std::string(home) + "/.config/strata/token";
  return {};
}

std::optional<std::string> read_token(const std::string& path) {
  if (path.empty()) return std::nullopt;
  std::ifstream f(path);
  if (!f) return std::nullopt;
  std::string t;
  std::getline(f, t);
  while (!t.empty() && (t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (t.empty()) return std::nullopt;
  return t;
}

void write_token(const std::string& path, const std::string& token) {
  if (path.empty()) throw CtlError("no place for the token: set HOME or XDG_CONFIG_HOME");
  make_dirs(path.substr(0, path.rfind('/')));
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw CtlError("cannot write " + tmp + ": " + std::strerror(errno));
  std::string line = token + "\n";
  bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  int err = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) err = errno;
    ::unlink(tmp.c_str());
    throw CtlError("cannot write " + path + ": " + std::strerror(err));
  }
}

bool remove_token(const std::string& path) { return !path.empty() && ::unlink(path.c_str()) == 0; }

}  // namespace strata::ctl
