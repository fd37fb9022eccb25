// The message that travels through the broker once a PUBLISH is accepted.
// It is immutable and shared by every subscriber it is delivered to; what
// differs per delivery (QoS, packet id, retain flag, subscription ids, topic
// alias) is decided when it is encoded for one connection.
//
// One allocation per message: Message::make() copies the topic and the
// payload into the block that also holds the Message and its reference
// count (an allocate_shared whose allocator asks for the bytes of the two
// strings past the object), and `topic` / `payload` are views of those
// bytes. So the core builds a message straight from the bytes of the read
// buffer (the views of a decoded PUBLISH), and a store record or a bridge
// frame the same way, with one malloc and one free, whatever the lengths.
//
// The views are const members: a message's topic and payload never change
// after make(), and assigning a std::string to them, which would leave a
// view of a temporary, does not compile. A changed message is a new one:
//   - Message::make(topic, payload, attributes) with any other fields;
//   - Message::copy(m, topic, payload): m's attributes (QoS, retain,
//     properties, publisher ...) with another topic and/or payload; the
//     namespace annotation is dropped when either differs;
//   - MessageDraft: an owned, editable form (topic and payload as
//     std::string) for writers that build or change a message piece by
//     piece (the rules' message tables, the plugin API); make(draft).
// A Message cannot be copied or made on the stack (its views point into
// its own block); a function that wants "a message" takes a const
// Message& and is handed *ptr.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "broker/protocol/packet.hpp"
#include "broker/protocol/shared_properties.hpp"

namespace strata::uns {
struct Annotation;  // broker/uns/annotation.hpp
}

namespace strata::router {

class Message;
using MessagePtr = std::shared_ptr<const Message>;

// Everything a message carries but its topic and payload.
struct MessageAttributes {
  protocol::QoS qos = protocol::QoS::at_most_once;
  bool retain = false;
  // How many times a rule republished to get here: 0 for a client's
  // message. The rule engine stops a chain at its hop limit (loop guard).
  std::uint8_t hops = 0;
  std::uint64_t expires_at_ms = 0;  // unix time in ms; 0 = never expires
  // Application properties only: payload format, content type, response
  // topic, correlation data, user properties. Message expiry is kept as an
  // absolute deadline above and re-computed on every send. Null (and
  // free) when the message has none: read *properties / properties->x,
  // change through properties.edit().
  protocol::SharedProperties properties;
  std::string publisher;  // client id of the publisher, for logs
  std::string username;   // of the publisher, if it gave one (rules read it)
  // What the namespace hook (broker/uns/) found on the publishing core: the
  // topic's ISA-95 place and the payload parsed as JSON, which the rules
  // reuse instead of parsing again. Null when the namespace is off or the
  // message was neither governed nor parsed (no cost then). `mutable`: the
  // hook attaches it to the message it was handed, on the publishing core,
  // before the message is routed or seen by another thread; it is never
  // changed afterwards. A copy whose topic or payload differs must reset it.
  mutable std::shared_ptr<const uns::Annotation> uns;
};

struct MessageDraft;

class Message : public MessageAttributes {
  struct Key {};  // make() and copy() only

 public:
  const std::string_view topic;    // into the message's own block
  const std::string_view payload;  // into the message's own block

  // A new message holding copies of `topic` and `payload` (which may view
  // anything, another message's included) and the attributes.
  static std::shared_ptr<Message> make(std::string_view topic, std::string_view payload,
                                       MessageAttributes attributes);
  // With default attributes, made in place (a client's PUBLISH: the core
  // sets the few it needs).
  static std::shared_ptr<Message> make(std::string_view topic, std::string_view payload);
  static std::shared_ptr<Message> make(MessageDraft&& draft);
  static std::shared_ptr<Message> make(const MessageDraft& draft);
  // `from`'s attributes with this topic and payload; the namespace
  // annotation only when both are unchanged.
  static std::shared_ptr<Message> copy(const Message& from, std::string_view topic,
                                       std::string_view payload);
  static std::shared_ptr<Message> copy(const Message& from) { return copy(from, from.topic, from.payload); }

  Message(Key, MessageAttributes&& attributes, char* const* tail, std::string_view topic,
          std::string_view payload) noexcept;
  Message(Key, char* const* tail, std::string_view topic, std::string_view payload) noexcept;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  ~Message() = default;

  const MessageAttributes& attributes() const noexcept { return *this; }
};

// A message under construction or change, owning its topic and payload.
struct MessageDraft : MessageAttributes {
  std::string topic;
  std::string payload;

  MessageDraft() = default;
  explicit MessageDraft(const Message& m) : MessageAttributes(m.attributes()), topic(m.topic), payload(m.payload) {}
};

}  // namespace strata::router
