#include "upstream/classify.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

#include "upstream/backoff.hpp"
#include "upstream/json_check.hpp"
#include "upstream/json_repair.hpp"

namespace matchsync::upstream {

namespace {

constexpr std::size_t max_snippet = 200;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return text;
}

// The length of the well-formed UTF-8 sequence at `i`, or 0 when the bytes
// there are not one (overlong forms and surrogates included).
std::size_t utf8_sequence(const std::string& text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3
                  : (c >> 3) == 0x1e ? 4 : 0;
  if (len == 0 || i + len > text.size())
    return 0;
  for (std::size_t k = 1; k < len; ++k)
    if ((byte(i + k) & 0xc0) != 0x80)
      return 0;
  if (len == 2 && c < 0xc2)
    return 0;
  if (len == 3 && ((c == 0xe0 && byte(i + 1) < 0xa0) || (c == 0xed && byte(i + 1) >= 0xa0)))
    return 0;
  if (len == 4 && ((c == 0xf0 && byte(i + 1) < 0x90) || c > 0xf4 ||
                   (c == 0xf4 && byte(i + 1) >= 0x90)))
    return 0;
  return len;
}

// One printable line of valid UTF-8 from an arbitrary body: upstream text
// ends up in job error messages (a PostgreSQL text column refuses invalid
// UTF-8) and logs. Cut at a character boundary; invalid bytes become '?'.
std::string snippet(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    auto len = utf8_sequence(text, i);
    if (out.size() + std::max<std::size_t>(len, 1) > max_snippet) {
      out += "...";
      break;
    }
    if (len == 0) {
      out += '?';
      ++i;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (len == 1)
      out += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
    else
      out.append(text, i, len);
    i += len;
  }
  return out;
}

// OpenDota puts the reason of an error in {"error": "..."}, or nullopt.
std::optional<std::string> json_error(const std::string& body) {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object()) {
    auto it = parsed.find("error");
    if (it != parsed.end() && it->is_string())
      return snippet(it->get<std::string>());
  }
  return std::nullopt;
}

// The reason of an error; a body without one is shown as a snippet.
std::string error_text(const std::string& body) {
  auto e = json_error(body);
  return e ? *e : snippet(body);
}

// An optional signed integer header; nullopt for anything else.
std::optional<long long> header_int(const std::string& text) {
  if (text.empty() || text.size() > 18)
    return std::nullopt;
  std::size_t i = text[0] == '-' ? 1 : 0;
  if (i == text.size())
    return std::nullopt;
  for (std::size_t k = i; k < text.size(); ++k)
    if (!std::isdigit(static_cast<unsigned char>(text[k])))
      return std::nullopt;
  return std::stoll(text);
}

answer make(answer_kind kind, std::string message) {
  answer a;
  a.kind = kind;
  a.message = std::move(message);
  return a;
}

std::string with_reason(const std::string& head, const std::string& body) {
  auto text = error_text(body);
  return text.empty() ? head : head + ": " + text;
}

// Why `data` is not a match list, or "" when it is one.
std::string shape_problem(const nlohmann::json& data) {
  if (!data.is_array())
    return "match list is not a JSON array";
  for (const auto& item : data) {
    if (!item.is_object())
      return "match list item is not a JSON object";
    auto id = item.find("match_id");
    if (id == item.end() || !id->is_number_integer())
      return "match list item has no integer match_id";
  }
  return "";
}

// The same check as shape_problem, on the text as it is parsed (SAX):
// nothing but the depth and two flags is kept, whatever the list's length.
// The parse goes on after a shape problem: malformed JSON is told first, as
// the tree's parse does.
class list_shape_check final : public nlohmann::json_sax<nlohmann::json> {
public:
  std::string problem;  ///< the first one
  bool malformed = false;

  bool null() override { return value(false); }
  bool boolean(bool) override { return value(false); }
  bool number_integer(number_integer_t) override { return value(true); }
  bool number_unsigned(number_unsigned_t) override { return value(true); }
  bool number_float(number_float_t, const string_t&) override { return value(false); }
  bool string(string_t&) override { return value(false); }
  bool binary(binary_t&) override { return value(false); }
  bool start_object(std::size_t) override {
    if (depth_ == 0)
      fail("match list is not a JSON array");
    if (depth_ == 1)
      has_id_ = false;  // a row begins
    id_next_ = false;
    ++depth_;
    return true;
  }
  bool end_object() override {
    if (--depth_ == 1 && !has_id_)
      fail("match list item has no integer match_id");
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 1)
      fail("match list item is not a JSON object");
    id_next_ = false;
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool key(string_t& k) override {
    id_next_ = depth_ == 2 && k == "match_id";
    return true;
  }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception&) override {
    malformed = true;
    return false;
  }

private:
  // A value at the current depth: the list itself, a row, or a row's member.
  bool value(bool integer) {
    if (depth_ == 0)
      fail("match list is not a JSON array");
    else if (depth_ == 1)
      fail("match list item is not a JSON object");
    else if (depth_ == 2 && id_next_ && integer)
      has_id_ = true;
    id_next_ = false;
    return true;
  }
  void fail(const char* why) {
    if (problem.empty())
      problem = why;
  }

  std::size_t depth_ = 0;
  bool has_id_ = false;
  bool id_next_ = false;
};

}  // namespace

bool is_daily_limit_text(const std::string& text) {
  auto l = lower(text);
  return l.find("daily") != std::string::npos &&
         l.find("limit") != std::string::npos;
}

answer classify_response(int status, std::string body,
                         const std::string& retry_after,
                         expected_shape shape) {
  auto head = "HTTP " + std::to_string(status);
  if (status == 200 && shape == expected_shape::match_detail) {
    // Checked without building a tree (json_check.hpp): the text is stored
    // as received, but for the escapes jsonb refuses (a \u0000, a lone
    // surrogate from a Steam name cut inside an emoji), which become U+FFFD
    // (SPEC §2): asking again would only bring them back.
    auto verdict = check_json_object(body);
    std::size_t repaired = 0;
    if (verdict == json_verdict::malformed || verdict == json_verdict::unstorable) {
      repaired = repair_unstorable_escapes(body);
      if (repaired > 0)
        verdict = check_json_object(body);
    }
    switch (verdict) {
      case json_verdict::object: {
        answer a;
        a.kind = answer_kind::ok;
        a.text = std::move(body);
        a.repaired_escapes = repaired;
        return a;
      }
      case json_verdict::not_object:
        return make(answer_kind::retryable, "match detail is not a JSON object");
      case json_verdict::unstorable:
        return make(answer_kind::retryable,
                    "match detail cannot be stored (nested deeper than " +
                      std::to_string(max_json_depth) +
                      ", or a number out of PostgreSQL's range)");
      case json_verdict::malformed:
        break;
    }
    return make(answer_kind::retryable, "malformed JSON in upstream answer (" +
                                          std::to_string(body.size()) + " bytes)");
  }
  if (status == 200 && shape == expected_shape::match_list_text) {
    list_shape_check check;
    nlohmann::json::sax_parse(body, &check);
    if (check.malformed)
      return make(answer_kind::retryable, "malformed JSON in upstream answer (" +
                                            std::to_string(body.size()) + " bytes)");
    if (!check.problem.empty())
      return make(answer_kind::retryable, check.problem);
    answer a;
    a.kind = answer_kind::ok;
    a.text = std::move(body);
    return a;
  }
  if (status == 200) {
    auto data = nlohmann::json::parse(body, nullptr, false);
    if (data.is_discarded())
      return make(answer_kind::retryable,
                  "malformed JSON in upstream answer (" +
                    std::to_string(body.size()) + " bytes)");
    if (shape == expected_shape::account) {
      if (!data.is_object())
        return make(answer_kind::retryable, "account is not a JSON object");
    } else if (auto problem = shape_problem(data); !problem.empty()) {
      return make(answer_kind::retryable, problem);
    }
    answer a;
    a.kind = answer_kind::ok;
    a.data = std::move(data);
    return a;
  }
  if (status == 404)
    return make(answer_kind::not_found, with_reason(head, body));
  if (status == 429) {
    // Only OpenDota's own JSON body announces the daily limit; anything
    // else (a proxy's HTML page) is a minute limit, waited out.
    auto text = json_error(body);
    if (text && is_daily_limit_text(*text))
      return make(answer_kind::daily_limit,
                  "upstream daily limit exceeded: " + *text);
    auto a = make(answer_kind::rate_limited, with_reason(head, body));
    a.retry_after = parse_retry_after(retry_after);
    return a;
  }
  if (status == 400) {
    auto text = json_error(body);
    if (text && lower(*text).find("api key") != std::string::npos)
      return make(answer_kind::key_refused,
                  "OpenDota refuses the API key (MATCHSYNC_UPSTREAM_API_KEY): " + *text);
  }
  if (status >= 500 || status == 408)
    return make(answer_kind::retryable, with_reason(head, body));
  return make(answer_kind::failed, with_reason(head, body));
}

quota_signal read_quota_headers(const std::string& remaining_minute,
                                const std::string& remaining_day) {
  quota_signal q;
  auto m = header_int(remaining_minute);
  auto d = header_int(remaining_day);
  q.minute_spent = m && *m <= 0;
  q.day_spent = d && *d <= 0;
  return q;
}

answer classify_transport_error(const std::string& reason) {
  return make(answer_kind::retryable, "no complete answer: " + reason);
}

const char* to_string(answer_kind kind) {
  switch (kind) {
    case answer_kind::ok:
      return "ok";
    case answer_kind::not_found:
      return "not_found";
    case answer_kind::rate_limited:
      return "rate_limited";
    case answer_kind::daily_limit:
      return "daily_limit";
    case answer_kind::key_refused:
      return "key_refused";
    case answer_kind::retryable:
      return "retryable";
    case answer_kind::failed:
      return "failed";
  }
  return "unknown";
}

}  // namespace matchsync::upstream
