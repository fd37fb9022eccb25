#include "broker/util/install_paths.hpp"

#include <filesystem>

namespace strata::util {

namespace fs = std::filesystem;

std::string install_prefix() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return exe.parent_path().parent_path().string();
}

std::string installed_config_file() {
  std::string prefix = install_prefix();
  if (prefix.empty()) return {};
  // The prefix /usr keeps its configuration in /etc (as cmake --install does).
  fs::path p = prefix == "/usr" ? fs::path("/etc/strata/strata.toml")
                                : fs::path(prefix) / "etc" / "strata" / "strata.toml";
  std::error_code ec;
  return fs::is_regular_file(p, ec) ? p.string() : std::string();
}

}  // namespace strata::util
