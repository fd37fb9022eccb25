// Turning the admin API's JSON into what a person reads (pure, unit-tested):
//
//   Table: aligned columns, headers in capitals, two spaces between columns,
//          no trailing blanks. A cell with a newline or tab shows it escaped,
//          so a row stays one line.
//   list_table: the rows of an API list ({"data":[...]} or a bare array)
//          with the columns a command chooses; a missing field shows "-".
//   describe: any JSON value as indented "key: value" lines (nested objects
//          and arrays indented below their key), for `show` commands and for
//          answers whose shape the client does not know in advance.
#pragma once

#include <string>
#include <vector>

#include <rapidjson/document.h>

namespace strata::ctl {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add_row(std::vector<std::string> cells);
  std::size_t rows() const { return rows_.size(); }
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

struct Column {
  std::string header;
  std::string key;  // a member of each row; "a.b" reads a nested member
};

// A scalar as a cell: strings as they are, numbers as JSON writes them,
// true/false, null as "-", arrays of scalars joined with ",", objects as
// compact JSON.
std::string cell_text(const rapidjson::Value& v);

// The value at a dotted path, or null.
const rapidjson::Value* member_at(const rapidjson::Value& obj, const std::string& path);

// The rows of `body` as a table: its "data" array (the API's paged lists),
// else its first array member ({"rules":[...]}, {"series":[...]}), or `body`
// itself when it is an array.
Table list_table(const rapidjson::Value& body, const std::vector<Column>& columns);

// The InfluxDB 1.x shape of history answers ({"results":[{"series":[{"name",
// "columns":["time",C],"values":[[t,v],...]}]}]}) as SERIES, TIME, VALUE rows.
Table series_table(const rapidjson::Value& body);

// Indented "key: value" lines; `skip` names top-level members left out.
std::string describe(const rapidjson::Value& v, const std::vector<std::string>& skip = {});

// Compact JSON of a value.
std::string to_json(const rapidjson::Value& v);

}  // namespace strata::ctl
