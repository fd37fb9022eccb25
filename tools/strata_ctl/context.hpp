// What a command runs with: the API client (URL, credentials), the output
// mode (--json or tables) and the streams to print on. call() turns an
// answer of 400 and above into ApiError with the API's code and message.
#pragma once

#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>

#include <rapidjson/document.h>

#include "tools/strata_ctl/command.hpp"
#include "tools/strata_ctl/http_client.hpp"
#include "tools/strata_ctl/table.hpp"

namespace strata::ctl {

// A failed command (exit status 1), printed as "strata-ctl: <message>".
class CtlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An answer >= 400: "404 NOT_FOUND: no connected client 'x'".
class ApiError : public CtlError {
 public:
  ApiError(unsigned status, std::string code, const std::string& message);
  unsigned status() const { return status_; }
  const std::string& code() const { return code_; }

 private:
  unsigned status_;
  std::string code_;
};

// The error of an answer: {"code","message"} when it has them, else the
// status line and the start of the body.
ApiError api_error_of(const HttpResponse& r);

// The JSON document of an answer (CtlError when it is not JSON).
rapidjson::Document parse_json(const std::string& body);

class Context {
 public:
  Context(HttpClient client, bool json, std::ostream& out, std::ostream& err)
      : client_(std::move(client)), json_(json), out_(out), err_(err) {}

  // The answer, or ApiError for a status of 400 and above.
  HttpResponse call(const std::string& method, const std::string& target, const std::string& body = {},
                    const std::string& content_type = "application/json");
  // call() and the answer's JSON.
  rapidjson::Document call_json(const std::string& method, const std::string& target, const std::string& body = {},
                                const std::string& content_type = "application/json");

  bool json() const { return json_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  HttpClient& client() { return client_; }

  // With --json the body as it came (plus a final newline); else `table`.
  void print(const HttpResponse& r, const std::string& text);
  // A list answer: the table, and a note on stderr when more pages exist.
  void print_list(const HttpResponse& r, const std::vector<Column>& columns);

 private:
  HttpClient client_;
  bool json_;
  std::ostream& out_;
  std::ostream& err_;
};

// The paging options of list commands and their query parameters.
OptionSpec page_option();
OptionSpec limit_option();
void add_paging(const Args& a, std::vector<std::pair<std::string, std::string>>& params);

// A JSON string literal of `s` (for request bodies).
std::string json_string(const std::string& s);

}  // namespace strata::ctl
