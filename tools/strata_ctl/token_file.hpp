// Where `strata-ctl login` keeps the bearer token:
// $XDG_CONFIG_HOME/strata/token, else ~/.config/strata/token; the
// directory is created with mode 0700 and the file written with mode 0600.
#pragma once

#include <optional>
#include <string>

namespace strata::ctl {

// The path (empty when neither XDG_CONFIG_HOME nor HOME is set).
std::string token_path();
// The token in the file, trimmed; nullopt when there is none.
std::optional<std::string> read_token(const std::string& path);
// Writes the file (mode 0600, replacing it atomically); throws CtlError.
void write_token(const std::string& path, const std::string& token);
// Removes the file; true when there was one.
bool remove_token(const std::string& path);

}  // namespace strata::ctl
