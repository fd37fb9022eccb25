#include "broker/uns/contract_overlay.hpp"

#include <algorithm>
#include <vector>

#include <rapidjson/document.h>

#include "broker/store/store.hpp"
#include "broker/uns/uns_api.hpp"
#include "broker/util/log.hpp"

namespace strata::uns {

ContractOverlay::ContractOverlay(store::Store& store) : store_(store) {
  dbi_ = store_.env().open_database("uns_contracts");
}

std::size_t ContractOverlay::load() {
  store::ReadTxn txn(store_.env());
  MDB_cursor* cur = nullptr;
  if (mdb_cursor_open(txn.get(), dbi_, &cur) != MDB_SUCCESS) return 0;
  MDB_val k, v;
  std::lock_guard lock(mutex_);
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    std::string name(static_cast<const char*>(k.mv_data), k.mv_size);
    auto r = decode_contract_record({static_cast<const char*>(v.mv_data), v.mv_size});
    if (!r) {
      STRATA_WARN("uns") << "the stored API contract '" << name << "' is damaged; skipped";
      continue;
    }
    seq_ = std::max(seq_, r->seq);
    records_[name] = std::move(*r);
  }
  mdb_cursor_close(cur);
  return records_.size();
}

std::string ContractOverlay::apply(UnsConfig& cfg) const {
  std::vector<std::pair<std::string, Record>> ordered;
  {
    std::lock_guard lock(mutex_);
    ordered.assign(records_.begin(), records_.end());
  }
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.second.seq < b.second.seq; });
  std::string changes;
  for (const auto& [name, r] : ordered) {
    auto it = std::find_if(cfg.contracts.begin(), cfg.contracts.end(), [&](const auto& c) { return c->name() == name; });
    if (!r.body) {
      if (it == cfg.contracts.end()) continue;
      cfg.contracts.erase(it);
      changes += (changes.empty() ? "" : ", ") + name + " removed through the API";
      continue;
    }
    std::shared_ptr<const Contract> c;
    try {
      rapidjson::Document body;
      body.Parse(r.body->data(), r.body->size());
      if (body.HasParseError() || !body.IsObject()) throw std::invalid_argument("not a JSON object");
      c = contract_of_body(name, body);
    } catch (const std::exception& e) {
      STRATA_WARN("uns") << "the stored API contract '" << name << "' does not build (" << e.what() << "); skipped";
      continue;
    }
    changes += (changes.empty() ? "" : ", ") + name + " v" + c->version() + " from the API";
    if (it == cfg.contracts.end()) {
      cfg.contracts.push_back(std::move(c));
    } else {
      *it = std::move(c);
    }
  }
  return changes;
}

void ContractOverlay::put(const std::string& name, std::string body, std::function<void(bool)> done) {
  Record r;
  r.body = std::move(body);
  persist(name, r, std::move(done));
}

void ContractOverlay::remove(const std::string& name, std::function<void(bool)> done) {
  persist(name, Record{}, std::move(done));
}

bool ContractOverlay::from_api(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = records_.find(name);
  return it != records_.end() && it->second.body.has_value();
}

void ContractOverlay::persist(const std::string& name, const Record& in, std::function<void(bool)> done) {
  Record r = in;
  {
    std::lock_guard lock(mutex_);
    r.seq = ++seq_;
    records_[name] = r;
  }
  store::Writer& w = store_.writer();
  store::Op op;
  op.kind = store::Op::Kind::put;
  op.dbi = dbi_;
  op.key = name;
  op.value = encode_contract_record(r);
  w.push(0, std::move(op));
  store::Op committed;
  committed.kind = store::Op::Kind::done;
  committed.done = std::move(done);
  w.push(0, std::move(committed));
}

}  // namespace strata::uns
