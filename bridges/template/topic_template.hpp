// Templates that build names from a message's topic: a Kafka topic or key,
// an Influx measurement or tag value.
//
//   "plant.{2}.{-1}"      literal text with placeholders in braces
//   {topic}               the whole MQTT topic
//   {N}                   level N of the topic, counted from 1 ("a/b/c": {1} = a)
//   {-N}                  level N counted from the end ({-1} = c)
//   {#}                   what the '#' of the route's filter matched (the
//                         levels from its position on); the whole topic when
//                         the template has no filter or it has no '#'
//   {name}                a level named by `level_names` (e.g. "site" for
//                         ["enterprise", "site", "area"] is {2})
//   {uns.LEVEL}           the topic's value of an ISA-95 level of the unified
//                         namespace ([[uns.namespace]] levels, e.g. {uns.site}),
//   {uns.tag}             and the levels after the model's; empty when the
//                         topic is not governed or does not fit the model.
//                         Compiling one needs the namespaces ([uns] enabled).
//   {{ and }}             a literal brace
//
// A level past the end of the topic expands to the empty string. Templates
// are compiled once, when the config is read (compile() throws
// TemplateError with what is wrong), and expand without allocating more than
// the result.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace strata::uns {
struct NamespaceModel;
}

namespace strata::bridges {

// The [[uns.namespace]] models {uns.*} placeholders read (null: [uns] off).
using Namespaces = std::shared_ptr<const std::vector<uns::NamespaceModel>>;

struct TemplateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class TopicTemplate {
 public:
  TopicTemplate() = default;

  // `filter`: the route filter whose '#' {#} refers to (may be empty).
  static TopicTemplate compile(std::string_view text, std::string_view filter = {},
                               std::span<const std::string> level_names = {}, Namespaces namespaces = {});

  // Appends the expansion for `topic` to `out`.
  void expand(std::string_view topic, std::string& out) const;
  std::string expand(std::string_view topic) const {
    std::string out;
    expand(topic, out);
    return out;
  }

  const std::string& text() const noexcept { return text_; }
  bool empty() const noexcept { return parts_.empty(); }
  // True when the template is exactly "{topic}".
  bool is_whole_topic() const noexcept;

 private:
  enum class Kind : std::uint8_t { literal, topic, level, hash, uns };
  struct Part {
    Kind kind = Kind::literal;
    int level = 0;        // for Kind::level: 1-based, negative from the end
    std::string literal;  // for Kind::literal; the level name (or "tag") for Kind::uns
  };
  std::string text_;
  std::vector<Part> parts_;
  Namespaces namespaces_;  // set when a part is Kind::uns
  int hash_level_ = 0;  // 1-based level where {#} starts; 0: whole topic
};

// The levels of `topic` ("a//b" has "a", "", "b").
std::vector<std::string_view> split_levels(std::string_view topic);

}  // namespace strata::bridges
