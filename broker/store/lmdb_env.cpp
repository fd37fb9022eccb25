#include "broker/store/lmdb_env.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "broker/protocol/wire.hpp"
#include "broker/store/records.hpp"
#include "broker/util/log.hpp"

namespace strata::store {

namespace fs = std::filesystem;

void check(int rc, const std::string& what) {
  if (rc != MDB_SUCCESS) throw StoreError(what + ": " + mdb_strerror(rc));
}

LmdbEnv::LmdbEnv(const std::string& data_dir, const config::Store& settings)
    : path_((fs::path(data_dir) / "store").string()),
      map_size_(settings.map_size),
      max_map_size_(settings.max_map_size) {
  std::error_code ec;
  fs::create_directories(path_, ec);
  if (ec) throw StoreError("cannot create the store directory " + path_ + ": " + ec.message());
  lock_data_dir(data_dir);
  try {
    check_file((fs::path(path_) / "data.mdb").string());
    check(mdb_env_create(&env_), "mdb_env_create");
    check(mdb_env_set_maxdbs(env_, 32), "mdb_env_set_maxdbs");
    check(mdb_env_set_mapsize(env_, map_size_), "mdb_env_set_mapsize");
    unsigned flags = MDB_NOTLS;
    if (settings.durability != config::Durability::sync) flags |= MDB_NOSYNC;
    if (settings.durability == config::Durability::none) flags |= MDB_NOMETASYNC;
    int rc = mdb_env_open(env_, path_.c_str(), flags, 0640);
    if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
      throw StoreError(path_ + "/data.mdb is not a readable LMDB store (" + mdb_strerror(rc) +
                       "); move it away to start with an empty store");
    }
    check(rc, "cannot open the store in " + path_);
    MDB_envinfo info;
    mdb_env_info(env_, &info);
    map_size_ = info.me_mapsize;  // an existing store may be larger than map_size
    const std::uint64_t need = used_bytes();
    struct stat file;
    if (::stat((fs::path(path_) / "data.mdb").c_str(), &file) == 0 && need > static_cast<std::uint64_t>(file.st_size)) {
      throw StoreError(path_ + "/data.mdb is truncated (" + std::to_string(file.st_size) + " bytes, its pages need " +
                       std::to_string(need) + "); restore it from a backup or move it away to start with an empty store");
    }
    open_databases();
  } catch (...) {
    if (env_ != nullptr) mdb_env_close(env_);
    env_ = nullptr;
    ::close(pid_fd_);
    throw;
  }
}

LmdbEnv::~LmdbEnv() {
  if (env_ != nullptr) mdb_env_close(env_);
  if (pid_fd_ >= 0) ::close(pid_fd_);  // releases the flock
}

void LmdbEnv::lock_data_dir(const std::string& data_dir) {
  std::string pid_path = (fs::path(data_dir) / "strata.pid").string();
  pid_fd_ = ::open(pid_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (pid_fd_ < 0) {
    throw StoreError("cannot write to the data directory " + data_dir + " (" + pid_path +
                     "): " + std::strerror(errno));
  }
  if (::flock(pid_fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char buf[32] = {};
    ssize_t n = ::pread(pid_fd_, buf, sizeof buf - 1, 0);
    std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "unknown";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    ::close(pid_fd_);
    pid_fd_ = -1;
    if (err == EWOULDBLOCK) {
      throw StoreError("the data directory " + data_dir + " is in use by another strata process (pid " + pid + ")");
    }
    throw StoreError("cannot lock " + pid_path + ": " + std::strerror(err));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(pid_fd_, 0) != 0 || ::pwrite(pid_fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    int err = errno;
    ::close(pid_fd_);
    pid_fd_ = -1;
    throw StoreError("cannot write " + pid_path + ": " + std::strerror(err));
  }
}

void LmdbEnv::check_file(const std::string& file) {
  struct stat st;
  if (::stat(file.c_str(), &st) != 0) return;  // a new store
  // LMDB would take an empty file for a new store and start empty: a
  // data.mdb truncated to nothing must not silently become "no sessions".
  if (st.st_size == 0) {
    throw StoreError(file + " is empty (0 bytes): truncated, or never written; move it away to start with an empty store");
  }
  if (::access(file.c_str(), R_OK | W_OK) != 0) {
    throw StoreError("cannot open " + file + " for writing: " + std::strerror(errno));
  }
}

void LmdbEnv::open_databases() {
  MDB_txn* txn = nullptr;
  check(mdb_txn_begin(env_, nullptr, 0, &txn), "cannot begin a transaction in " + path_);
  try {
    check(mdb_dbi_open(txn, "meta", MDB_CREATE, &meta), "open meta");
    check(mdb_dbi_open(txn, "sessions", MDB_CREATE, &sessions), "open sessions");
    check(mdb_dbi_open(txn, "messages", MDB_CREATE, &messages), "open messages");
    check(mdb_dbi_open(txn, "qos2", MDB_CREATE, &qos2), "open qos2");
    check(mdb_dbi_open(txn, "retained", MDB_CREATE, &retained), "open retained");
    check(mdb_dbi_open(txn, "outbox", MDB_CREATE, &outbox), "open outbox");
    check(mdb_dbi_open(txn, "outbox_meta", MDB_CREATE, &outbox_meta), "open outbox_meta");
    check(mdb_dbi_open(txn, "outbox_dead", MDB_CREATE, &outbox_dead), "open outbox_dead");
    check(mdb_dbi_open(txn, "outbox_state", MDB_CREATE, &outbox_state), "open outbox_state");
    MDB_val key{6, const_cast<char*>("format")};
    MDB_val val;
    int rc = mdb_get(txn, meta, &key, &val);
    if (rc == MDB_SUCCESS) {
      std::string_view v(static_cast<const char*>(val.mv_data), val.mv_size);
      std::uint64_t found = read_u64(v);
      if (v.size() != 4 || found > format_version) {
        throw StoreError(path_ + " was written in store format " + std::to_string(found) + "; this strata reads format " +
                         std::to_string(format_version) + " and older. Use a newer strata");
      }
    } else if (rc == MDB_NOTFOUND) {
      std::string v;
      protocol::wire::put_u32(v, format_version);
      MDB_val nv{v.size(), v.data()};
      check(mdb_put(txn, meta, &key, &nv, 0), "write the format version");
    } else {
      check(rc, "read the format version");
    }
  } catch (...) {
    mdb_txn_abort(txn);
    throw;
  }
  // mdb_txn_commit frees the transaction whatever its result.
  check(mdb_txn_commit(txn), "cannot write to the store in " + path_);
}

std::uint64_t LmdbEnv::used_bytes() const {
  MDB_envinfo info;
  MDB_stat st;
  if (mdb_env_info(env_, &info) != MDB_SUCCESS || mdb_env_stat(env_, &st) != MDB_SUCCESS) return 0;
  return static_cast<std::uint64_t>(info.me_last_pgno + 1) * st.ms_psize;
}

std::uint64_t LmdbEnv::disk_free() const {
  struct statvfs fs_info;
  if (::statvfs(path_.c_str(), &fs_info) != 0) return 0;
  return static_cast<std::uint64_t>(fs_info.f_bavail) * fs_info.f_frsize;
}

MDB_dbi LmdbEnv::open_database(const char* name) {
  MDB_txn* txn = nullptr;
  check(mdb_txn_begin(env_, nullptr, 0, &txn), "cannot begin a transaction in " + path_);
  MDB_dbi dbi = 0;
  int rc = mdb_dbi_open(txn, name, MDB_CREATE, &dbi);
  if (rc != MDB_SUCCESS) {
    mdb_txn_abort(txn);
    check(rc, std::string("open ") + name);
  }
  check(mdb_txn_commit(txn), "cannot write to the store in " + path_);
  return dbi;
}

ReadTxn::ReadTxn(LmdbEnv& env) : lock_(env.resize_lock()) {
  check(mdb_txn_begin(env.env(), nullptr, MDB_RDONLY, &txn_), "begin a read transaction");
}

ReadTxn::~ReadTxn() { mdb_txn_abort(txn_); }

bool LmdbEnv::grow() {
  if (map_size_ >= max_map_size_) return false;
  std::uint64_t next = std::min(map_size_ * 2, max_map_size_);
  std::unique_lock lock(resize_lock_);
  if (mdb_env_set_mapsize(env_, next) != MDB_SUCCESS) return false;
  STRATA_INFO("store") << "map grown from " << map_size_ << " to " << next << " bytes";
  map_size_ = next;
  return true;
}

}  // namespace strata::store
