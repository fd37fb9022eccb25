// A move-only callable wrapper, like std::function, that keeps the callable
// inside itself and never allocates: a callable that does not fit is a
// compile error, not a silent heap allocation.
//
// For completion handlers on the per-message path (transport::Stream's
// reads and writes): std::function stores only trivially copyable
// callables of up to two pointers in place, so a lambda holding a
// shared_ptr to its connection cost one allocation and one free per read
// and per write. Here it fits in `Capacity` bytes.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace strata::util {

template <typename Signature, std::size_t Capacity = 24>
class InlineFunction;

template <typename R, typename... Args, std::size_t Capacity>
class InlineFunction<R(Args...), Capacity> {
 public:
  InlineFunction() noexcept = default;

  template <typename F, typename D = std::decay_t<F>,
            typename = std::enable_if_t<!std::is_same_v<D, InlineFunction> && std::is_invocable_r_v<R, D&, Args...>>>
  InlineFunction(F&& f) {  // NOLINT(google-explicit-constructor): used like std::function
    static_assert(sizeof(D) <= Capacity, "callable too large for InlineFunction: capture less (e.g. one pointer)");
    static_assert(alignof(D) <= alignof(void*), "callable over-aligned for InlineFunction");
    static_assert(std::is_nothrow_move_constructible_v<D>, "InlineFunction needs a nothrow-movable callable");
    ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
    ops_ = &ops_for<D>;
  }

  InlineFunction(InlineFunction&& o) noexcept : ops_(o.ops_) {
    if (ops_ != nullptr) {
      ops_->move(storage_, o.storage_);
      o.ops_ = nullptr;
    }
  }

  InlineFunction& operator=(InlineFunction&& o) noexcept {
    if (this != &o) {
      reset();
      if (o.ops_ != nullptr) {
        o.ops_->move(storage_, o.storage_);
        ops_ = o.ops_;
        o.ops_ = nullptr;
      }
    }
    return *this;
  }

  InlineFunction(const InlineFunction&) = delete;
  InlineFunction& operator=(const InlineFunction&) = delete;

  ~InlineFunction() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  R operator()(Args... args) { return ops_->call(storage_, std::forward<Args>(args)...); }

 private:
  struct Ops {
    R (*call)(void* self, Args&&... args);
    void (*move)(void* to, void* from) noexcept;  // constructs at `to`, destroys `from`
    void (*destroy)(void* self) noexcept;
  };

  template <typename D>
  static constexpr Ops ops_for{
      [](void* self, Args&&... args) -> R { return (*static_cast<D*>(self))(std::forward<Args>(args)...); },
      [](void* to, void* from) noexcept {
        ::new (to) D(std::move(*static_cast<D*>(from)));
        static_cast<D*>(from)->~D();
      },
      [](void* self) noexcept { static_cast<D*>(self)->~D(); },
  };

  void reset() noexcept {
    if (ops_ != nullptr) {
      ops_->destroy(storage_);
      ops_ = nullptr;
    }
  }

  // Pointer-aligned, not max_align_t: a handler lives inside each pending
  // Asio operation, and 16-byte alignment rounded every idle connection's
  // pending wait (transport/stream.hpp) up by 16 bytes.
  alignas(void*) unsigned char storage_[Capacity];
  const Ops* ops_ = nullptr;
};

}  // namespace strata::util
