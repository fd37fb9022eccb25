// Watches the rules directory by a cheap periodic scan: one readdir and a
// stat per file, comparing (mtime, size) with the last scan; only changed
// files are read. Chosen over inotify because it works the same on every
// filesystem (bind mounts, NFS, container volumes), needs no extra file
// descriptor or thread, and a one-second delay is fine for rule edits.
//
// *.lua files are rules (RuleVm reads the name a rule declares, or takes
// the file name). *.json files are context tables; a change to any of them
// is reported as one flag.
//
// Threading: used by one thread (core 0's timer, or start-up).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace strata::rules {

class RuleDir {
 public:
  explicit RuleDir(std::string dir) : dir_(std::move(dir)) {}

  struct Change {
    std::string path;                   // dir/file
    std::optional<std::string> source;  // nullopt: the file was deleted
  };
  struct Scan {
    std::vector<Change> changes;
    bool contexts_changed = false;
  };
  Scan scan();
  const std::string& dir() const noexcept { return dir_; }

 private:
  struct Stamp {
    std::int64_t mtime_ns = 0;
    std::uintmax_t size = 0;
    bool operator==(const Stamp&) const = default;
  };
  std::string dir_;
  std::map<std::string, Stamp> seen_;  // file name -> stamp at the last scan
  bool reported_missing_ = false;
};

}  // namespace strata::rules
