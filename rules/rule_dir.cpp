#include "rules/rule_dir.hpp"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "broker/util/log.hpp"

namespace strata::rules {

namespace fs = std::filesystem;

RuleDir::Scan RuleDir::scan() {
  Scan out;
  std::map<std::string, Stamp> now;
  std::error_code ec;
  fs::directory_iterator it(dir_, ec);
  if (ec) {
    if (!reported_missing_) {
      STRATA_INFO("rules") << "no rules directory " << dir_ << " (" << ec.message() << "); watching for it";
      reported_missing_ = true;
    }
  } else {
    reported_missing_ = false;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      const fs::path& p = it->path();
      std::string ext = p.extension().string();
      if (ext != ".lua" && ext != ".json") continue;
      std::error_code sec;
      if (!it->is_regular_file(sec)) continue;
      Stamp s;
      s.size = it->file_size(sec);
      auto t = it->last_write_time(sec);
      if (sec) continue;
      s.mtime_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
      now[p.filename().string()] = s;
    }
  }

  std::set<std::string> unreadable;
  for (const auto& [file, stamp] : now) {
    auto old = seen_.find(file);
    if (old != seen_.end() && old->second == stamp) continue;
    fs::path p = fs::path(dir_) / file;
    if (p.extension() == ".json") {
      out.contexts_changed = true;
      continue;
    }
    std::ifstream in(p, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) {
      STRATA_WARN("rules") << p.string() << ": cannot read";
      unreadable.insert(file);  // retried on the next scan
      continue;
    }
    out.changes.push_back(Change{p.string(), text.str()});
  }
  for (const auto& [file, stamp] : seen_) {
    if (now.contains(file)) continue;  // (an unreadable file is not reported deleted)
    fs::path p = fs::path(dir_) / file;
    if (p.extension() == ".json") {
      out.contexts_changed = true;
    } else {
      out.changes.push_back(Change{p.string(), std::nullopt});
    }
  }
  for (const std::string& file : unreadable) now.erase(file);
  seen_ = std::move(now);
  return out;
}

}  // namespace strata::rules
