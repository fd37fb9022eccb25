#include "broker/admin/static_files.hpp"

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <gtest/gtest.h>

namespace strata::admin {
namespace {

namespace fs = std::filesystem;

std::string header(const Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

TEST(StaticFilesSafePath, MapsOrdinaryPaths) {
  EXPECT_EQ(StaticFiles::safe_path("/"), "index.html");
  EXPECT_EQ(StaticFiles::safe_path("/app.js"), "app.js");
  EXPECT_EQ(StaticFiles::safe_path("/vendor/preact/preact.module.js"), "vendor/preact/preact.module.js");
  EXPECT_EQ(StaticFiles::safe_path("/pages/overview.js"), "pages/overview.js");
}

TEST(StaticFilesSafePath, RefusesTraversalAndOddNames) {
  for (std::string_view p : {"", "app.js", "/..", "/../etc/passwd", "/vendor/../../x", "/a/./b", "/.", "/.git/config",
                             "/vendor/.hidden", "//etc/passwd", "/a//b", "/vendor/", "/a\\..\\b", "/c:", "/a\tb"}) {
    EXPECT_FALSE(StaticFiles::safe_path(p)) << p;
  }
  EXPECT_FALSE(StaticFiles::safe_path(std::string_view("/a\0b", 4)));
}

TEST(StaticFilesMime, ByExtension) {
  EXPECT_EQ(StaticFiles::mime_type("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(StaticFiles::mime_type("a/b.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(StaticFiles::mime_type("x.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(StaticFiles::mime_type("s.css"), "text/css; charset=utf-8");
  EXPECT_EQ(StaticFiles::mime_type("i.svg"), "image/svg+xml");
  EXPECT_EQ(StaticFiles::mime_type("README"), "application/octet-stream");
  EXPECT_EQ(StaticFiles::mime_type("x.exe"), "application/octet-stream");
}

class StaticFilesServe : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("strata-static-" + std::to_string(::getpid()));
    fs::remove_all(base_);
    fs::create_directories(base_ / "web" / "vendor");
    write(base_ / "web" / "index.html", "<!doctype html>");
    write(base_ / "web" / "app.js", "export {}");
    write(base_ / "web" / "vendor" / "lib.js", "lib");
    write(base_ / "secret.txt", "TOP-SECRET-CONTENT");  // beside the root: never served
  }
  void TearDown() override { fs::remove_all(base_); }
  static void write(const fs::path& p, std::string_view s) { std::ofstream(p, std::ios::binary) << s; }
  fs::path base_;
};

TEST_F(StaticFilesServe, ServesIndexWithHeaders) {
  StaticFiles files(base_ / "web");
  Response r = files.serve("/", "");
  EXPECT_EQ(r.status, http::status::ok);
  EXPECT_EQ(r.body, "<!doctype html>");
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
  EXPECT_EQ(header(r, "Content-Security-Policy"), dashboard_csp);
  EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_FALSE(header(r, "ETag").empty());
  EXPECT_EQ(files.serve("/index.html", "").body, "<!doctype html>");
}

TEST_F(StaticFilesServe, VendorFilesMayBeCached) {
  StaticFiles files(base_ / "web");
  Response r = files.serve("/vendor/lib.js", "");
  EXPECT_EQ(r.status, http::status::ok);
  EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(header(r, "Cache-Control"), "public, max-age=86400");
}

TEST_F(StaticFilesServe, EtagRevalidates) {
  StaticFiles files(base_ / "web");
  std::string etag = header(files.serve("/app.js", ""), "ETag");
  Response r = files.serve("/app.js", etag);
  EXPECT_EQ(r.status, http::status::not_modified);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(files.serve("/app.js", "\"other\"").status, http::status::ok);
}

TEST_F(StaticFilesServe, NoTraversalEvenEncoded) {
  StaticFiles files(base_ / "web");
  for (std::string_view p : {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/vendor/%2e%2e/%2e%2e/secret.txt",
                             "/..%2fsecret.txt", "/%2fetc%2fpasswd", "/vendor", "/missing.js", "/%zz", "/app.js%00.html"}) {
    Response r = files.serve(p, "");
    EXPECT_EQ(r.status, http::status::not_found) << p;
    EXPECT_EQ(r.body.find("TOP-SECRET-CONTENT"), std::string::npos) << p;
  }
}

TEST_F(StaticFilesServe, EmptyRootServesNothing) {
  StaticFiles files{fs::path()};
  EXPECT_EQ(files.serve("/", "").status, http::status::not_found);
}

}  // namespace
}  // namespace strata::admin
