// A message's application properties, behind a pointer and only when it
// has some.
//
// protocol::Properties is ~490 bytes of optionals and vectors. Most
// PUBLISHes carry no properties at all, so a message that held the struct
// inline made, moved and destroyed it for nothing, once or more per
// message. Here an empty set is a null pointer: making, moving and
// destroying it is a pointer's work, and readers see the one shared empty
// set (`*p` / `p->` never fail).
//
// The value is immutable once shared: copies (Message::copy, a
// MessageDraft made from a message) share it, and edit() copies it first
// when anyone else holds it, so a message seen by another thread is never
// changed under it.
#pragma once

#include <memory>
#include <utility>

#include "broker/protocol/properties.hpp"

namespace strata::protocol {

class SharedProperties {
 public:
  SharedProperties() = default;
  // Takes `p`; an empty set leaves the pointer null.
  SharedProperties(Properties p)  // NOLINT(google-explicit-constructor): a value, assigned like one
      : p_(p == none() ? nullptr : std::make_shared<const Properties>(std::move(p))) {}

  const Properties& operator*() const noexcept { return p_ ? *p_ : none(); }
  const Properties* operator->() const noexcept { return &**this; }
  // False for a message without properties (the common case).
  bool has_value() const noexcept { return p_ != nullptr; }

  // The properties to change: made when there are none, copied first when
  // shared with anyone else.
  Properties& edit() {
    if (!p_) {
      p_ = std::make_shared<Properties>();
    } else if (p_.use_count() > 1) {
      p_ = std::make_shared<Properties>(*p_);
    }
    // Made non-const above (make_shared<Properties>) and held by this
    // object alone.
    return const_cast<Properties&>(*p_);
  }
  void reset() noexcept { p_.reset(); }

  friend bool operator==(const SharedProperties& a, const SharedProperties& b) {
    return a.p_ == b.p_ || *a == *b;
  }

  // The application properties of a received PUBLISH (or will): payload
  // format, content type, response topic, correlation data and user
  // properties, moved out of `in`; null when it has none of them. (Message
  // expiry is kept as a deadline, the rest is about the packet.)
  static SharedProperties application(Properties&& in) {
    SharedProperties out;
    if (!in.payload_format_indicator && !in.content_type && !in.response_topic && !in.correlation_data &&
        in.user_properties.empty()) {
      return out;
    }
    Properties& p = out.edit();
    p.payload_format_indicator = in.payload_format_indicator;
    p.content_type = std::move(in.content_type);
    p.response_topic = std::move(in.response_topic);
    p.correlation_data = std::move(in.correlation_data);
    p.user_properties = std::move(in.user_properties);
    return out;
  }

  // The one empty set every holder without properties reads.
  static const Properties& none() noexcept {
    static const Properties empty;
    return empty;
  }

 private:
  std::shared_ptr<const Properties> p_;
};

}  // namespace strata::protocol
