#include "http/request_reader.hpp"

#include <algorithm>
#include <cctype>

#include "http/ascii_lower.hpp"

namespace matchsync::http {

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos)
    return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 18 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A chunk-size line's size: hex digits, then optional extensions (ignored).
bool chunk_size(const std::string& line, std::size_t& size) {
  std::size_t i = 0;
  size = 0;
  for (; i < line.size() && std::isxdigit(static_cast<unsigned char>(line[i])); ++i) {
    if (i >= 8)
      return false;  // past 4 GiB: far beyond any limit, and no overflow
    size = size * 16 + static_cast<std::size_t>(
                         std::isdigit(static_cast<unsigned char>(line[i]))
                           ? line[i] - '0'
                           : std::tolower(static_cast<unsigned char>(line[i])) - 'a' + 10);
  }
  if (i == 0)
    return false;
  auto rest = trim(line.substr(i));
  return rest.empty() || rest[0] == ';';
}

constexpr std::size_t max_chunk_line = 1024;

}  // namespace

request_verdict request_reader::refuse(int status, std::string detail) {
  request_verdict v;
  v.what = request_verdict::kind::refused;
  v.status = status;
  v.detail = std::move(detail);
  return v;
}

request_verdict request_reader::examine(const std::string& input) {
  // A request has begun with its first byte that is not a blank line's.
  if (!started_ && input.find_first_not_of("\r\n", pos_) != std::string::npos)
    started_ = true;
  for (;;) {
    if (stage_ == stage::fixed_body) {
      if (input.size() - pos_ < length_) {
        request_verdict v;
        v.wants_continue = expect_continue_;
        return v;
      }
      body_ = input.substr(pos_, length_);
      return finish(pos_ + length_);
    }
    if (stage_ == stage::chunk_data) {
      // The chunk's data and its CRLF.
      if (input.size() - pos_ < chunk_left_ + 2)
        return {};
      if (input.compare(pos_ + chunk_left_, 2, "\r\n") != 0)
        return refuse(400, "Malformed chunked body");
      body_.append(input, pos_, chunk_left_);
      pos_ += chunk_left_ + 2;
      stage_ = stage::chunk_size;
      continue;
    }
    // Line-oriented stages.
    auto nl = input.find('\n', pos_);
    std::size_t bound = stage_ == stage::chunk_size ? max_chunk_line : limits_.max_line;
    if (nl == std::string::npos) {
      if (input.size() - pos_ > bound) {
        if (stage_ == stage::chunk_size)
          return refuse(400, "Malformed chunked body");
        if (stage_ == stage::head && request_line_.empty())
          return refuse(414, "Request-URI too long");
        return refuse(431, "Request header fields too large");
      }
      request_verdict v;
      v.wants_continue = stage_ == stage::chunk_size && expect_continue_;
      return v;
    }
    std::string line = input.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.size() > bound) {
      if (stage_ == stage::chunk_size)
        return refuse(400, "Malformed chunked body");
      if (stage_ == stage::head && request_line_.empty())
        return refuse(414, "Request-URI too long");
      return refuse(431, "Request header fields too large");
    }
    switch (stage_) {
      case stage::head:
        if (request_line_.empty()) {
          if (line.empty())
            continue;  // RFC 9112 §2.2: blank lines before a request are ignored
          request_line_ = line;
          continue;
        }
        if (line.empty()) {
          auto v = head_done();
          if (v.what != request_verdict::kind::incomplete || stage_ == stage::head)
            return v;
          continue;
        }
        if (++header_count_ > limits_.max_headers)
          return refuse(431, "Too many request headers (at most " +
                               std::to_string(limits_.max_headers) + ")");
        if (line[0] == ' ' || line[0] == '\t')
          return refuse(400, "Folded header lines are not accepted");
        {
          auto colon = line.find(':');
          if (colon == std::string::npos || colon == 0)
            return refuse(400, "Malformed header line");
          headers_.emplace_back(line.substr(0, colon), trim(line.substr(colon + 1)));
        }
        continue;
      case stage::chunk_size: {
        std::size_t size = 0;
        if (!chunk_size(line, size))
          return refuse(400, "Malformed chunked body");
        if (size > limits_.max_body || body_.size() + size > limits_.max_body)
          return refuse(413, "Request body too large");
        if (size == 0) {
          stage_ = stage::trailers;
          continue;
        }
        chunk_left_ = size;
        stage_ = stage::chunk_data;
        continue;
      }
      case stage::trailers:
        if (line.empty())
          return finish(pos_);
        if (++header_count_ > limits_.max_headers)
          return refuse(431, "Too many request headers (at most " +
                               std::to_string(limits_.max_headers) + ")");
        continue;  // trailers are dropped: nothing here reads them
      default:
        continue;
    }
  }
}

request_verdict request_reader::head_done() {
  std::string length;
  bool has_length = false, chunked = false;
  for (auto& [name, value] : headers_) {
    auto n = ascii_lower(name);
    if (n == "content-length") {
      if (!all_digits(value))
        return refuse(400, "Content-Length is not a number");
      // "007" and "7" are the same length; compare them as numbers.
      auto digits = value.substr(std::min(value.find_first_not_of('0'), value.size() - 1));
      if (has_length && digits != length)
        return refuse(400, "Conflicting Content-Length headers");
      length = digits;
      has_length = true;
    } else if (n == "transfer-encoding") {
      if (ascii_lower(value) != "chunked")
        return refuse(501, "Transfer-Encoding not supported: " + value);
      chunked = true;
    } else if (n == "content-encoding") {
      if (ascii_lower(value) != "identity")
        return refuse(415, "Content-Encoding is not accepted on requests");
    } else if (n == "expect") {
      if (ascii_lower(value) != "100-continue")
        return refuse(417, "Expectation not supported");
      expect_continue_ = true;
    }
  }
  if (has_length && chunked)
    return refuse(400, "Content-Length and Transfer-Encoding together");
  if (chunked) {
    stage_ = stage::chunk_size;
    return {};
  }
  length_ = has_length ? std::stoull(length) : 0;
  if (length_ > limits_.max_body)
    return refuse(413, "Request body too large");
  stage_ = stage::fixed_body;
  return {};
}

request_verdict request_reader::finish(std::size_t end) {
  request_verdict v;
  v.what = request_verdict::kind::complete;
  v.consumed = end;
  v.request = request_line_ + "\r\n";
  for (auto& [name, value] : headers_) {
    auto n = ascii_lower(name);
    // Framing is ours now; Range would make httplib build every range in
    // memory (SPEC: ignored); Expect was answered (or not needed).
    if (n == "content-length" || n == "transfer-encoding" || n == "range" ||
        n == "expect")
      continue;
    v.request += name + ": " + value + "\r\n";
  }
  v.request += "Content-Length: " + std::to_string(body_.size()) + "\r\n\r\n";
  v.request += body_;
  return v;
}

}  // namespace matchsync::http
