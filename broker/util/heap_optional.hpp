// An optional value kept on the heap: what std::optional<T> offers for
// presence and access, in the size of one pointer.
//
// For large members that most objects never hold — a session's will is
// ~570 bytes inline as std::optional<protocol::Will>, and most sessions
// have none — where memory per idle connection matters more than one
// allocation when the value is set.
#pragma once

#include <memory>
#include <optional>
#include <utility>

namespace strata::util {

template <typename T>
class HeapOptional {
 public:
  HeapOptional() = default;
  HeapOptional(const HeapOptional& o) : value_(o.value_ ? std::make_unique<T>(*o.value_) : nullptr) {}
  HeapOptional(HeapOptional&&) noexcept = default;
  HeapOptional& operator=(const HeapOptional& o) {
    if (this != &o) value_ = o.value_ ? std::make_unique<T>(*o.value_) : nullptr;
    return *this;
  }
  HeapOptional& operator=(HeapOptional&&) noexcept = default;

  HeapOptional& operator=(T v) {
    value_ = std::make_unique<T>(std::move(v));
    return *this;
  }
  HeapOptional& operator=(std::optional<T>&& v) {
    value_ = v ? std::make_unique<T>(std::move(*v)) : nullptr;
    return *this;
  }
  HeapOptional& operator=(std::nullopt_t) noexcept {
    value_.reset();
    return *this;
  }

  explicit operator bool() const noexcept { return value_ != nullptr; }
  bool has_value() const noexcept { return value_ != nullptr; }
  T& operator*() noexcept { return *value_; }
  const T& operator*() const noexcept { return *value_; }
  T* operator->() noexcept { return value_.get(); }
  const T* operator->() const noexcept { return value_.get(); }
  void reset() noexcept { value_.reset(); }

 private:
  std::unique_ptr<T> value_;
};

}  // namespace strata::util
