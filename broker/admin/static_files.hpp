// StaticFiles: the web dashboard's files (web/), served by the admin
// server at "/" for GET and HEAD requests that no API route takes.
//
// Where the files are (web_root()), first found wins:
//   1. <dir of the strata binary>/../share/strata/web   (after cmake --install)
//   2. the source tree's web/, compiled in as STRATA_WEB_SOURCE_DIR (a build tree)
// No folder found: the dashboard is off and "/" answers 404 like any
// unknown path; the API works as before.
//
// The model, kept free of sockets so it is unit-tested:
//   - safe_path() maps a decoded URL path to a file below the root, or
//     refuses it: no "..", no ".", no hidden (dot) names, no backslash,
//     no NUL, no empty segments. "/" is index.html.
//   - mime_type() by extension (unknown: application/octet-stream, which
//     with nosniff a browser will not run).
//   - serve() answers 200 with the file, 304 when If-None-Match carries
//     its ETag (size and modification time), 404 otherwise.
// Headers on every answer: a strict Content-Security-Policy (only this
// origin's scripts, styles, images and fetches; no inline script, no
// frames), X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer.
// Cache-Control: "no-cache" (revalidate with the ETag) for the app's own
// files, index.html included, so a new broker's page is seen at once;
// files under vendor/ (the npm libraries) may be kept for a day.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "broker/admin/http.hpp"

namespace strata::admin {

inline constexpr std::string_view dashboard_csp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path root) : root_(std::move(root)) {}

  // The relative file path for a percent-decoded URL path, or nullopt
  // when it must not be served.
  static std::optional<std::string> safe_path(std::string_view url_path);
  static std::string_view mime_type(std::string_view file);

  // The answer to GET `raw_path` (still percent-encoded, no query).
  // `if_none_match`: the request's If-None-Match header ("" if none).
  Response serve(std::string_view raw_path, std::string_view if_none_match) const;

  const std::filesystem::path& root() const noexcept { return root_; }

 private:
  std::filesystem::path root_;
};

// The dashboard's folder as found from the running binary (see above);
// empty when there is none.
std::filesystem::path web_root();

}  // namespace strata::admin
