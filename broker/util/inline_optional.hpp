// An optional value held in place, like std::optional<T>, for a large T
// that is made empty often and filled rarely.
//
// g++ 12's std::optional<T>() clears the whole storage of T (its empty
// union member is value-initialized, which zero-fills the union): for
// protocol::Properties, ~500 bytes written for every PUBLISH read in place
// although most carry no properties (a `rep stos` of 67 words, ~70
// instructions of a message's ~3,600 at everyday rates). Here the empty
// state writes one flag; the rest is std::optional's interface as far as
// its users need it.
#pragma once

#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace strata::util {

template <typename T>
class InlineOptional {
 public:
  InlineOptional() noexcept {}  // leaves the storage as it is
  InlineOptional(const InlineOptional& o) {
    if (o.engaged_) emplace(o.value_);
  }
  InlineOptional(InlineOptional&& o) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (o.engaged_) emplace(std::move(o.value_));
  }
  InlineOptional& operator=(const InlineOptional& o) {
    if (this == &o) return *this;
    if (!o.engaged_) {
      reset();
    } else if (engaged_) {
      value_ = o.value_;
    } else {
      emplace(o.value_);
    }
    return *this;
  }
  InlineOptional& operator=(InlineOptional&& o) noexcept(std::is_nothrow_move_assignable_v<T> &&
                                                        std::is_nothrow_move_constructible_v<T>) {
    if (this == &o) return *this;
    if (!o.engaged_) {
      reset();
    } else if (engaged_) {
      value_ = std::move(o.value_);
    } else {
      emplace(std::move(o.value_));
    }
    return *this;
  }
  InlineOptional& operator=(const T& v) {
    if (engaged_) value_ = v;
    else emplace(v);
    return *this;
  }
  InlineOptional& operator=(T&& v) {
    if (engaged_) value_ = std::move(v);
    else emplace(std::move(v));
    return *this;
  }
  ~InlineOptional() { reset(); }

  template <typename... Args>
  T& emplace(Args&&... args) {
    reset();
    std::construct_at(&value_, std::forward<Args>(args)...);
    engaged_ = true;
    return value_;
  }
  void reset() noexcept {
    if (!engaged_) return;
    engaged_ = false;
    std::destroy_at(&value_);
  }

  explicit operator bool() const noexcept { return engaged_; }
  bool has_value() const noexcept { return engaged_; }
  T& operator*() noexcept { return value_; }
  const T& operator*() const noexcept { return value_; }
  T* operator->() noexcept { return &value_; }
  const T* operator->() const noexcept { return &value_; }

 private:
  union {
    T value_;  // alive only while engaged_
  };
  bool engaged_ = false;
};

}  // namespace strata::util
