#include "broker/uns/catalog.hpp"

#include <cmath>
#include <cstring>
#include <new>

#include "broker/router/message.hpp"

namespace strata::uns {

void Rate::add(std::uint64_t dt_ms, float tau_s) {
  value = at(dt_ms, tau_s) + 1.0f / tau_s;
}

float Rate::at(std::uint64_t dt_ms, float tau_s) const {
  return value * std::exp(-static_cast<float>(dt_ms) / 1000.0f / tau_s);
}

Catalog::~Catalog() {
  for (CatalogEntry* e : slots_) {
    if (e != nullptr) destroy(e);
  }
}

void Catalog::destroy(CatalogEntry* e) noexcept {
  e->~CatalogEntry();
  ::operator delete(static_cast<void*>(e));
}

std::size_t Catalog::slot_of(std::string_view topic, std::uint32_t hash) const noexcept {
  std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const CatalogEntry* e = slots_[i];
    if (e == nullptr || (e->hash == hash && e->topic() == topic)) return i;
  }
}

void Catalog::grow() {
  std::vector<CatalogEntry*> old(slots_.empty() ? 16 : slots_.size() * 2, nullptr);
  old.swap(slots_);
  std::size_t mask = slots_.size() - 1;
  for (CatalogEntry* e : old) {
    if (e == nullptr) continue;
    std::size_t i = e->hash & mask;
    while (slots_[i] != nullptr) i = (i + 1) & mask;
    slots_[i] = e;
  }
}

// Backward-shift deletion: later entries of the probe run move up so that
// every entry stays reachable from its home slot without tombstones.
void Catalog::erase_slot(std::size_t i) {
  std::size_t mask = slots_.size() - 1;
  slots_[i] = nullptr;
  for (std::size_t j = (i + 1) & mask; slots_[j] != nullptr; j = (j + 1) & mask) {
    std::size_t home = slots_[j]->hash & mask;
    // Move j to the hole i when its home is not in the cyclic range (i, j].
    bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      slots_[i] = slots_[j];
      slots_[j] = nullptr;
      i = j;
    }
  }
  --size_;
}

CatalogEntry& Catalog::touch(std::string_view topic, bool& created) {
  std::uint32_t hash = hash_of(topic);
  if (!slots_.empty()) {
    if (CatalogEntry* found = slots_[slot_of(topic, hash)]; found != nullptr) {
      created = false;
      if (newest_ != found) {
        unlink(*found);
        push_front(*found);
      }
      return *found;
    }
  }
  created = true;
  while (size_ >= max_topics_ && oldest_ != nullptr) evict_oldest();
  if ((size_ + 1) * 4 > slots_.size() * 3) grow();
  void* block = ::operator new(sizeof(CatalogEntry) + topic.size());
  auto* e = new (block) CatalogEntry;
  std::memcpy(static_cast<void*>(e + 1), topic.data(), topic.size());
  e->topic_size = static_cast<std::uint32_t>(topic.size());
  e->hash = hash;
  slots_[slot_of(topic, hash)] = e;
  ++size_;
  push_front(*e);
  return *e;
}

const CatalogEntry* Catalog::find(std::string_view topic) const {
  if (slots_.empty()) return nullptr;
  return slots_[slot_of(topic, hash_of(topic))];
}

void Catalog::set_max_topics(std::uint64_t n) {
  max_topics_ = n;
  while (size_ > max_topics_ && oldest_ != nullptr) evict_oldest();
}

void Catalog::unlink(CatalogEntry& e) {
  (e.newer ? e.newer->older : newest_) = e.older;
  (e.older ? e.older->newer : oldest_) = e.newer;
  e.newer = e.older = nullptr;
}

void Catalog::push_front(CatalogEntry& e) {
  e.older = newest_;
  e.newer = nullptr;
  if (newest_ != nullptr) newest_->newer = &e;
  newest_ = &e;
  if (oldest_ == nullptr) oldest_ = &e;
}

void Catalog::evict_oldest() {
  CatalogEntry* e = oldest_;
  unlink(*e);
  erase_slot(slot_of(e->topic(), e->hash));
  destroy(e);
  ++evicted_;
}

std::shared_ptr<const InferredSchema> Catalog::intern(InferredSchema&& s) {
  auto it = schemas_.find(s.hash);
  if (it != schemas_.end() && it->second->fields == s.fields) return it->second;
  auto shared = std::make_shared<const InferredSchema>(std::move(s));
  // Bounded: past this many distinct schemas, new ones are not shared.
  if (schemas_.size() < 100'000 && it == schemas_.end()) schemas_.emplace(shared->hash, shared);
  return shared;
}

std::shared_ptr<const std::string> Catalog::intern_publisher(std::string_view id) {
  auto it = publishers_.find(id);
  if (it != publishers_.end()) return it->second;
  auto shared = std::make_shared<const std::string>(id);
  // Bounded like the schemas: past this many distinct ids, new ones are not shared.
  if (publishers_.size() < 100'000) publishers_.emplace(std::string_view(*shared), shared);
  return shared;
}

int Catalog::record(CatalogEntry& e, const router::Message& m, const rapidjson::Value* doc, std::uint64_t now_ms,
                    std::uint32_t value_bytes) {
  std::uint64_t dt = e.count == 0 || now_ms < e.last_ms ? 0 : now_ms - e.last_ms;
  if (e.count == 0) e.first_ms = now_ms;
  e.last_ms = now_ms;
  ++e.count;
  e.rate_fast.add(dt, 10.0f);
  e.rate_slow.add(dt, 300.0f);
  e.size = static_cast<std::uint32_t>(m.payload.size());
  e.qos = static_cast<std::uint8_t>(m.qos);
  e.retain = m.retain;
  e.truncated = m.payload.size() > value_bytes;
  e.value.assign(m.payload.data(), std::min<std::size_t>(m.payload.size(), value_bytes));
  if (e.publisher == nullptr || *e.publisher != m.publisher) e.publisher = intern_publisher(m.publisher);
  // The router keeps a message's expiry as a deadline; the catalog shows
  // the interval it was published with (as of its arrival, now_ms).
  const bool expires = m.expires_at_ms > now_ms;
  if (!expires && !LastProperties::any(*m.properties)) {
    e.properties.reset();
  } else if (LastProperties p = LastProperties::of(*m.properties, expires ? (m.expires_at_ms - now_ms + 999) / 1000 : 0);
             e.properties == nullptr) {
    e.properties = std::make_unique<LastProperties>(std::move(p));
  } else if (!(*e.properties == p)) {
    *e.properties = std::move(p);
  }

  std::uint64_t hash;
  std::uint8_t plain = 0;
  if (doc != nullptr) {
    hash = shape_hash(*doc);
    e.kind = doc->IsObject() ? t_object : doc->IsArray() ? t_array : 0;
    if (e.kind == 0) e.kind = infer(*doc).fields[0].types;
  } else {
    plain = plain_kind(m.payload);
    hash = plain_hash(plain);
    e.kind = plain;
  }
  if (!e.versions.empty() && e.versions[e.current].schema->hash == hash) {
    SchemaVersion& v = e.versions[e.current];
    v.last_ms = now_ms;
    ++v.count;
    return -1;
  }
  for (std::uint32_t i = 0; i < e.versions.size(); ++i) {
    if (e.versions[i].schema->hash == hash) {  // back to a schema seen before: not drift
      e.current = i;
      e.versions[i].last_ms = now_ms;
      ++e.versions[i].count;
      return -1;
    }
  }
  SchemaVersion v;
  v.schema = intern(doc != nullptr ? infer(*doc) : infer_plain(plain));
  v.first_ms = v.last_ms = now_ms;
  v.count = 1;
  if (e.versions.size() >= kMaxVersions) e.versions.erase(e.versions.begin());
  e.versions.push_back(std::move(v));
  e.current = static_cast<std::uint32_t>(e.versions.size() - 1);
  return static_cast<int>(e.current);
}

}  // namespace strata::uns
