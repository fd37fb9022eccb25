#include "broker/admin/static_files.hpp"

#include <fstream>
#include <sstream>
#include <system_error>

namespace strata::admin {

namespace fs = std::filesystem;

std::optional<std::string> StaticFiles::safe_path(std::string_view url_path) {
  if (url_path.empty() || url_path.front() != '/') return std::nullopt;
  if (url_path == "/") return std::string("index.html");
  std::string_view rest = url_path.substr(1);
  std::string out;
  while (true) {
    std::size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    // Empty segments ("//", a trailing '/'), dot names ("..", ".", ".git")
    // and anything a file system or a shell could read differently.
    if (seg.empty() || seg.front() == '.') return std::nullopt;
    for (char c : seg) {
      if (c == '\\' || c == '\0' || c == ':' || static_cast<unsigned char>(c) < 0x20) return std::nullopt;
    }
    if (!out.empty()) out += '/';
    out += seg;
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return out;
}

std::string_view StaticFiles::mime_type(std::string_view file) {
  std::size_t dot = file.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? std::string_view{} : file.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "woff2") return "font/woff2";
  if (ext == "txt") return "text/plain; charset=utf-8";
  if (ext == "webmanifest") return "application/manifest+json";
  return "application/octet-stream";
}

Response StaticFiles::serve(std::string_view raw_path, std::string_view if_none_match) const {
  auto headers = [](Response& r) {
    r.headers.emplace_back("Content-Security-Policy", std::string(dashboard_csp));
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
  };
  auto not_found = [&] {
    Response r = error_response(http::status::not_found, "NOT_FOUND", "no file " + std::string(raw_path));
    headers(r);
    return r;
  };
  auto decoded = percent_decode(raw_path, false);
  if (!decoded) return not_found();
  auto rel = safe_path(*decoded);
  if (!rel || root_.empty()) return not_found();
  fs::path file = root_ / *rel;
  std::error_code ec;
  // Regular files only (a folder, a socket, a dangling link: 404). A
  // symbolic link inside the root is followed: the root is the operator's.
  if (!fs::is_regular_file(file, ec)) return not_found();
  auto size = fs::file_size(file, ec);
  if (ec) return not_found();
  auto mtime = fs::last_write_time(file, ec);
  if (ec) return not_found();
  std::ostringstream tag;
  tag << "\"" << std::hex << size << "-" << mtime.time_since_epoch().count() << "\"";
  std::string etag = tag.str();

  Response r;
  headers(r);
  r.content_type = std::string(mime_type(*rel));
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Cache-Control", rel->starts_with("vendor/") ? "public, max-age=86400" : "no-cache");
  if (!if_none_match.empty() && (if_none_match == etag || if_none_match == "*")) {
    r.status = http::status::not_modified;
    return r;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return not_found();
  r.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return r;
}

fs::path web_root() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path installed = exe.parent_path().parent_path() / "share" / "strata" / "web";
    if (fs::is_regular_file(installed / "index.html", ec)) return installed;
  }
#ifdef STRATA_WEB_SOURCE_DIR
  fs::path source = STRATA_WEB_SOURCE_DIR;
  if (fs::is_regular_file(source / "index.html", ec)) return source;
#endif
  return {};
}

}  // namespace strata::admin
