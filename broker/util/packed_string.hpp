// A string set once and then only read, in 24 bytes where std::string
// takes 32: up to 23 characters in place, a longer one on the heap. For
// what every connection keeps, such as its peer's address
// ("127.0.0.1:50514"), where 8 bytes take the stream object down one
// malloc size class.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

namespace strata::util {

class PackedString {
 public:
  PackedString() noexcept { bytes_[last] = 0; }
  explicit PackedString(std::string_view s) { assign(s); }
  PackedString(const PackedString&) = delete;
  PackedString& operator=(const PackedString&) = delete;
  PackedString& operator=(std::string_view s) {
    release();
    assign(s);
    return *this;
  }
  ~PackedString() { release(); }

  std::string_view view() const noexcept {
    const auto tag = static_cast<unsigned char>(bytes_[last]);
    if (tag != heap_tag) return {bytes_, tag};
    return {heap_data(), heap_size()};
  }

 private:
  // The last byte: the length of a string in place (0..23), or heap_tag
  // when the first 16 bytes hold the heap pointer and the length.
  static constexpr std::size_t last = 23;
  static constexpr unsigned char heap_tag = 0xFF;

  void assign(std::string_view s) {
    if (s.size() <= last) {
      std::memcpy(bytes_, s.data(), s.size());
      bytes_[last] = static_cast<char>(s.size());
      return;
    }
    char* p = new char[s.size()];
    std::memcpy(p, s.data(), s.size());
    const std::size_t n = s.size();
    std::memcpy(bytes_, &p, sizeof p);
    std::memcpy(bytes_ + sizeof p, &n, sizeof n);
    bytes_[last] = static_cast<char>(heap_tag);
  }
  void release() noexcept {
    if (static_cast<unsigned char>(bytes_[last]) == heap_tag) delete[] heap_data();
    bytes_[last] = 0;
  }
  char* heap_data() const noexcept {
    char* p = nullptr;
    std::memcpy(&p, bytes_, sizeof p);
    return p;
  }
  std::size_t heap_size() const noexcept {
    std::size_t n = 0;
    std::memcpy(&n, bytes_ + sizeof(char*), sizeof n);
    return n;
  }

  alignas(8) char bytes_[24];
};

}  // namespace strata::util
