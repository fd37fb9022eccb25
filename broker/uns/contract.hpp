// A data contract: which topics (an MQTT filter), what their payload must
// be (a JSON Schema, draft-04 keywords, checked by RapidJSON's validator;
// and/or a built-in shape), and what happens to a message that breaks it.
//
// Schemas are compiled once, when the contract is loaded; check() takes the
// payload already parsed (the namespace parses each message once and shares
// the document with the rules) and allocates only when it fails.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/schema.h>

namespace strata::uns {

enum class Action : unsigned char { reject, redirect, observe };
inline constexpr std::string_view kActionNames[] = {"reject", "redirect", "observe"};

enum class Shape : unsigned char { none, number, timeseries };
inline constexpr std::string_view kShapeNames[] = {"none", "number", "timeseries"};

// What a violation was, for counters and the violation log.
enum class Kind : unsigned char {
  missing_field,     // required, dependencies
  unexpected_field,  // additionalProperties, additionalItems
  wrong_type,        // type
  out_of_range,      // minimum, maximum, lengths, item/property counts, multipleOf
  invalid_value,     // enum, pattern, not, anyOf/oneOf/allOf, uniqueItems ...
  not_json,          // the payload does not parse
  model,             // the topic does not fit the namespace model
};
inline constexpr std::size_t kKindCount = 7;
inline constexpr std::string_view kKindNames[kKindCount] = {
    "missing_field", "unexpected_field", "wrong_type", "out_of_range", "invalid_value", "not_json", "model"};

// The kind a failing draft-04 keyword stands for.
Kind kind_of_keyword(std::string_view keyword);

struct Failure {
  Kind kind = Kind::invalid_value;
  std::string pointer;  // JSON pointer into the payload ("" is the whole payload)
  std::string detail;   // e.g. "required: timestamp_ms", the failing keyword
};

class Contract {
 public:
  // A schema compiled from `schema_text` (may be empty with a shape). Throws
  // std::invalid_argument with "line L, column C: what" when the text is not
  // a JSON object.
  Contract(std::string name, std::string filter, std::string version, Shape shape, const std::string& schema_text);

  const std::string& name() const noexcept { return name_; }
  const std::string& filter() const noexcept { return filter_; }
  const std::string& version() const noexcept { return version_; }
  Shape shape() const noexcept { return shape_; }
  const std::string& schema_path() const noexcept { return schema_path_; }
  const std::string& schema_text() const noexcept { return schema_text_; }

  Action action = Action::reject;
  std::string redirect_topic = "$uns/quarantine/{topic}";
  bool reject_disconnect = false;
  bool all = false;  // checked even after an earlier contract matched
  void set_schema_path(std::string p) { schema_path_ = std::move(p); }

  // nullopt: the payload keeps the contract. `doc` is the parsed payload,
  // or nullptr when it is not JSON (then `parse_error` says why).
  std::optional<Failure> check(const rapidjson::Value* doc, const std::string& parse_error) const;

 private:
  std::optional<Failure> check_schema(const rapidjson::SchemaDocument& schema, const rapidjson::Document& source,
                                      const rapidjson::Value& doc) const;

  std::string name_;
  std::string filter_;
  std::string version_;
  Shape shape_;
  std::string schema_path_;
  std::string schema_text_;
  rapidjson::Document schema_source_;  // kept to name the missing field of `required`
  std::unique_ptr<rapidjson::SchemaDocument> schema_;
  rapidjson::Document shape_source_;
  std::unique_ptr<rapidjson::SchemaDocument> shape_schema_;
};

// "line L, column C" of byte `offset` in `text` (1-based).
std::string line_column(std::string_view text, std::size_t offset);

}  // namespace strata::uns
