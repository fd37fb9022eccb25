// Message::make(): the message, its reference count, its topic and its
// payload in one allocation (see message.hpp).
//
// std::allocate_shared allocates the control block and the object together
// through the allocator it is given, with one call of allocate(1) on the
// allocator rebound to its internal block type. TailAllocator asks for
// `extra` bytes more and reports where they start through `tail`; the
// Message constructor, which runs right after, copies the topic and the
// payload there and keeps views of them. The control block keeps a copy of
// the allocator and frees the block through it when the last reference
// goes.
#include "broker/router/message.hpp"

#include <cstring>
#include <new>
#include <utility>

namespace strata::router {

namespace {

template <class T>
struct TailAllocator {
  using value_type = T;

  std::size_t extra = 0;
  char** tail = nullptr;  // written by allocate(); read only in make()

  TailAllocator(std::size_t e, char** t) noexcept : extra(e), tail(t) {}
  template <class U>
  TailAllocator(const TailAllocator<U>& o) noexcept : extra(o.extra), tail(o.tail) {}

  T* allocate(std::size_t n) {
    const std::size_t head = n * sizeof(T);
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
    auto* block = static_cast<char*>(::operator new(head + extra));
    *tail = block + head;
    return reinterpret_cast<T*>(block);
  }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p); }

  template <class U>
  bool operator==(const TailAllocator<U>& o) const noexcept {
    return extra == o.extra;
  }
};

std::string_view place(char* at, std::string_view s) noexcept {
  if (!s.empty()) std::memcpy(at, s.data(), s.size());
  return {at, s.size()};
}

}  // namespace

Message::Message(Key, MessageAttributes&& attributes, char* const* tail, std::string_view t,
                 std::string_view p) noexcept
    : MessageAttributes(std::move(attributes)), topic(place(*tail, t)), payload(place(*tail + t.size(), p)) {}

Message::Message(Key, char* const* tail, std::string_view t, std::string_view p) noexcept
    : topic(place(*tail, t)), payload(place(*tail + t.size(), p)) {}

std::shared_ptr<Message> Message::make(std::string_view topic, std::string_view payload) {
  char* tail = nullptr;
  return std::allocate_shared<Message>(TailAllocator<Message>(topic.size() + payload.size(), &tail), Key{}, &tail,
                                       topic, payload);
}

std::shared_ptr<Message> Message::make(std::string_view topic, std::string_view payload,
                                       MessageAttributes attributes) {
  char* tail = nullptr;
  return std::allocate_shared<Message>(TailAllocator<Message>(topic.size() + payload.size(), &tail), Key{},
                                       std::move(attributes), &tail, topic, payload);
}

std::shared_ptr<Message> Message::make(MessageDraft&& draft) {
  // The attributes are moved into make()'s parameter; the strings stay.
  return make(draft.topic, draft.payload, std::move(static_cast<MessageAttributes&>(draft)));
}

std::shared_ptr<Message> Message::make(const MessageDraft& draft) {
  return make(draft.topic, draft.payload, draft);
}

std::shared_ptr<Message> Message::copy(const Message& from, std::string_view topic, std::string_view payload) {
  MessageAttributes attributes = from.attributes();
  if (topic != from.topic || payload != from.payload) attributes.uns.reset();
  return make(topic, payload, std::move(attributes));
}

}  // namespace strata::router
