#include "tools/strata_ctl/table.hpp"

#include <algorithm>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace strata::ctl {

namespace {

// Characters on screen: UTF-8 continuation bytes take no column.
std::size_t display_width(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string one_line(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[(static_cast<unsigned char>(c) >> 4) & 0xF];
      out += hex[static_cast<unsigned char>(c) & 0xF];
    } else {
      out += c;
    }
  }
  return out;
}

bool is_scalar(const rapidjson::Value& v) { return !v.IsObject() && !v.IsArray(); }

void describe_into(std::string& out, const rapidjson::Value& v, int indent, const std::vector<std::string>& skip);

void describe_member(std::string& out, const std::string& key, const rapidjson::Value& v, int indent) {
  std::string pad(static_cast<std::size_t>(indent), ' ');
  if (is_scalar(v) || (v.IsArray() && v.Empty()) || (v.IsObject() && v.ObjectEmpty())) {
    std::string text = v.IsArray() ? "[]" : v.IsObject() ? "{}" : one_line(cell_text(v));
    if (v.IsString() && v.GetStringLength() == 0) text = "\"\"";  // not a trailing blank
    out += pad + key + ": " + text + "\n";
    return;
  }
  out += pad + key + ":\n";
  describe_into(out, v, indent + 2, {});
}

void describe_into(std::string& out, const rapidjson::Value& v, int indent, const std::vector<std::string>& skip) {
  std::string pad(static_cast<std::size_t>(indent), ' ');
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      std::string key(it->name.GetString(), it->name.GetStringLength());
      if (std::find(skip.begin(), skip.end(), key) != skip.end()) continue;
      describe_member(out, key, it->value, indent);
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) {
      if (is_scalar(e)) {
        out += pad + "- " + one_line(cell_text(e)) + "\n";
      } else {
        // "- " then the element's lines, the first one on the dash's line.
        std::string inner;
        describe_into(inner, e, indent + 2, {});
        if (inner.empty()) {
          out += pad + "- " + (e.IsArray() ? "[]" : "{}") + "\n";
        } else {
          out += pad + "- " + inner.substr(static_cast<std::size_t>(indent) + 2);
        }
      }
    }
  } else {
    out += pad + one_line(cell_text(v)) + "\n";
  }
}

}  // namespace

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  for (auto& c : cells) c = one_line(c);
  rows_.push_back(std::move(cells));
}

std::string Table::render() const {
  std::vector<std::size_t> width(headers_.size(), 0);
  for (std::size_t i = 0; i < headers_.size(); ++i) width[i] = display_width(headers_[i]);
  for (const auto& r : rows_) {
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], display_width(r[i]));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      l += cells[i];
      if (i + 1 < cells.size()) l += std::string(width[i] - display_width(cells[i]) + 2, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  std::vector<std::string> heads;
  for (const auto& h : headers_) {
    std::string u = h;
    std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    heads.push_back(u);
  }
  line(heads);
  for (const auto& r : rows_) line(r);
  return out;
}

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string cell_text(const rapidjson::Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsNull()) return "-";
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsArray()) {
    bool scalars = std::all_of(v.Begin(), v.End(), [](const rapidjson::Value& e) { return is_scalar(e); });
    if (scalars) {
      std::string out;
      for (const auto& e : v.GetArray()) out += (out.empty() ? "" : ",") + cell_text(e);
      return out.empty() ? "-" : out;
    }
  }
  return to_json(v);
}

const rapidjson::Value* member_at(const rapidjson::Value& obj, const std::string& path) {
  const rapidjson::Value* cur = &obj;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = path.find('.', start);
    std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->IsObject()) return nullptr;
    auto it = cur->FindMember(rapidjson::Value(key.data(), static_cast<rapidjson::SizeType>(key.size())));
    if (it == cur->MemberEnd()) return nullptr;
    cur = &it->value;
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

Table list_table(const rapidjson::Value& body, const std::vector<Column>& columns) {
  std::vector<std::string> headers;
  for (const auto& c : columns) headers.push_back(c.header);
  Table t(headers);
  const rapidjson::Value* rows = &body;
  if (body.IsObject()) {
    rows = member_at(body, "data");
    for (auto it = body.MemberBegin(); !rows && it != body.MemberEnd(); ++it) {
      if (it->value.IsArray()) rows = &it->value;
    }
  }
  if (!rows || !rows->IsArray()) return t;
  for (const auto& r : rows->GetArray()) {
    std::vector<std::string> cells;
    for (const auto& c : columns) {
      const rapidjson::Value* v = r.IsObject() ? member_at(r, c.key) : nullptr;
      cells.push_back(v ? cell_text(*v) : "-");
    }
    t.add_row(std::move(cells));
  }
  return t;
}

Table series_table(const rapidjson::Value& body) {
  Table t({"series", "time", "value"});
  const rapidjson::Value* results = member_at(body, "results");
  if (!results || !results->IsArray()) return t;
  for (const auto& result : results->GetArray()) {
    const rapidjson::Value* series = member_at(result, "series");
    if (!series || !series->IsArray()) continue;
    for (const auto& s : series->GetArray()) {
      const rapidjson::Value* name = member_at(s, "name");
      const rapidjson::Value* values = member_at(s, "values");
      if (!values || !values->IsArray()) continue;
      for (const auto& row : values->GetArray()) {
        if (!row.IsArray() || row.Size() < 2) continue;
        t.add_row({name ? cell_text(*name) : "-", cell_text(row[0]), cell_text(row[1])});
      }
    }
  }
  return t;
}

std::string describe(const rapidjson::Value& v, const std::vector<std::string>& skip) {
  std::string out;
  describe_into(out, v, 0, skip);
  return out;
}

}  // namespace strata::ctl
