#include "broker/uns/contract.hpp"

#include "broker/uns/annotation.hpp"

#include <stdexcept>

#include <rapidjson/error/en.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>

namespace strata::uns {
namespace {

constexpr const char* kTimeseriesSchema = R"({
  "type": "object",
  "required": ["timestamp_ms", "value"],
  "properties": {
    "timestamp_ms": {"type": "integer"},
    "value": {"type": ["number", "boolean", "string"]}
  }
})";
constexpr const char* kNumberSchema = R"({"type": "number"})";

// What RapidJSON 1.1 cannot validate safely is refused at load: a $ref that
// does not resolve within the schema (it validates with a null schema and
// crashes), and the combination below.
void check_refs(const rapidjson::Value& v, const rapidjson::Document& root) {
  if (v.IsArray()) {
    for (const auto& item : v.GetArray()) check_refs(item, root);
    return;
  }
  if (!v.IsObject()) return;
  // RapidJSON 1.1 crashes validating a property that a pattern matches
  // when additionalProperties is false in the same schema.
  auto ap = v.FindMember("additionalProperties");
  if (ap != v.MemberEnd() && ap->value.IsFalse() && v.HasMember("patternProperties")) {
    throw std::invalid_argument(
        "patternProperties with \"additionalProperties\": false is not supported; list the properties or give "
        "additionalProperties a schema");
  }
  for (const auto& m : v.GetObject()) {
    if (std::string_view(m.name.GetString()) == "$ref" && m.value.IsString()) {
      std::string ref = m.value.GetString();
      if (ref.empty() || ref[0] != '#') {
        throw std::invalid_argument("$ref \"" + ref +
                                    "\": only references into the same schema (\"#/...\") are supported");
      }
      rapidjson::Pointer p(ref.c_str(), ref.size());
      if (!p.IsValid() || p.Get(root) == nullptr) {
        throw std::invalid_argument("$ref \"" + ref + "\" does not resolve in the schema");
      }
    } else {
      check_refs(m.value, root);
    }
  }
}

void compile(const std::string& text, rapidjson::Document& source, std::unique_ptr<rapidjson::SchemaDocument>& out) {
  source.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (source.HasParseError()) {
    throw std::invalid_argument(line_column(text, source.GetErrorOffset()) + ": " +
                                rapidjson::GetParseError_En(source.GetParseError()));
  }
  if (!source.IsObject()) throw std::invalid_argument(line_column(text, 0) + ": a JSON Schema must be an object");
  if (json_depth(source, 64) > 64) throw std::invalid_argument(line_column(text, 0) + ": the schema is nested deeper than 64");
  check_refs(source, source);
  out = std::make_unique<rapidjson::SchemaDocument>(source);
}

}  // namespace

std::string line_column(std::string_view text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

Kind kind_of_keyword(std::string_view k) {
  if (k == "required" || k == "dependencies") return Kind::missing_field;
  if (k == "additionalProperties" || k == "additionalItems") return Kind::unexpected_field;
  if (k == "type") return Kind::wrong_type;
  if (k == "minimum" || k == "maximum" || k == "exclusiveMinimum" || k == "exclusiveMaximum" ||
      k == "minLength" || k == "maxLength" || k == "minItems" || k == "maxItems" || k == "minProperties" ||
      k == "maxProperties" || k == "multipleOf") {
    return Kind::out_of_range;
  }
  return Kind::invalid_value;
}

Contract::Contract(std::string name, std::string filter, std::string version, Shape shape,
                   const std::string& schema_text)
    : name_(std::move(name)), filter_(std::move(filter)), version_(std::move(version)), shape_(shape),
      schema_text_(schema_text) {
  if (!schema_text.empty()) compile(schema_text, schema_source_, schema_);
  if (shape == Shape::number) compile(kNumberSchema, shape_source_, shape_schema_);
  if (shape == Shape::timeseries) compile(kTimeseriesSchema, shape_source_, shape_schema_);
}

std::optional<Failure> Contract::check(const rapidjson::Value* doc, const std::string& parse_error) const {
  if (doc == nullptr) return Failure{Kind::not_json, "", parse_error};
  if (shape_schema_) {
    if (auto f = check_schema(*shape_schema_, shape_source_, *doc)) return f;
  }
  if (schema_) return check_schema(*schema_, schema_source_, *doc);
  return std::nullopt;
}

std::optional<Failure> Contract::check_schema(const rapidjson::SchemaDocument& schema,
                                              const rapidjson::Document& source,
                                              const rapidjson::Value& doc) const {
  rapidjson::SchemaValidator validator(schema);
  if (doc.Accept(validator)) return std::nullopt;
  Failure f;
  std::string keyword = validator.GetInvalidSchemaKeyword();
  f.kind = kind_of_keyword(keyword);
  rapidjson::StringBuffer where;
  validator.GetInvalidDocumentPointer().Stringify(where);
  f.pointer.assign(where.GetString(), where.GetSize());
  f.detail = keyword;
  if (keyword == "required") {
    // Name the first missing field: the schema's "required" list at the
    // failing schema location, against the object at the failing pointer.
    const rapidjson::Value* s = validator.GetInvalidSchemaPointer().Get(source);
    const rapidjson::Value* at = validator.GetInvalidDocumentPointer().Get(doc);
    if (s != nullptr && at != nullptr && at->IsObject() && s->IsObject() && s->HasMember("required") &&
        (*s)["required"].IsArray()) {
      for (const auto& name : (*s)["required"].GetArray()) {
        if (name.IsString() && !at->HasMember(name)) {
          f.pointer += "/";
          f.pointer.append(name.GetString(), name.GetStringLength());
          break;
        }
      }
    }
  }
  return f;
}

}  // namespace strata::uns
