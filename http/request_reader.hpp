// The request as it arrives on a connection, checked against SPEC §4's
// limits before cpp-httplib sees a byte of it. httplib 0.11.4 reads a head
// without counting its headers, reads a chunked body whole before routing,
// takes a Content-Length of "abc" for 0, inflates compressed bodies without a
// bound and builds every range of a Range header in memory; this reader
// refuses what SPEC refuses and hands httplib a plain request: a
// Content-Length body (a chunked one de-chunked), no Range, no Expect.
// Pure: bytes in, a verdict out; the sockets are front_door's.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace matchsync::http {

struct request_limits {
  std::size_t max_headers = 100;
  /// Per header line (431); the request line answers 414 past it.
  std::size_t max_line = 8 * 1024;
  /// The body, however it is framed (413).
  std::size_t max_body = 64 * 1024;
};

struct request_verdict {
  enum class kind { incomplete, complete, refused };
  kind what = kind::incomplete;
  int status = 0;            ///< refused: the answer's status
  std::string detail;        ///< refused: the answer's detail
  std::string request;       ///< complete: the request as httplib reads it
  std::size_t consumed = 0;  ///< complete: bytes of the input it used
  /// The head is complete, asks `Expect: 100-continue`, and its body has
  /// not arrived: the client waits for an interim 100.
  bool wants_continue = false;
};

/// Reads one request. Call examine() with everything received for it so
/// far (the same buffer, grown); it resumes where it stopped.
class request_reader {
public:
  explicit request_reader(request_limits limits = {}) : limits_(limits) {}

  request_verdict examine(const std::string& input);
  /// Ready for the next request on the connection.
  void reset() { *this = request_reader(limits_); }
  /// Whether a byte of a request has arrived (leading blank lines aside).
  bool started() const { return started_; }

private:
  enum class stage { head, fixed_body, chunk_size, chunk_data, trailers };

  request_verdict refuse(int status, std::string detail);
  request_verdict head_done();
  request_verdict finish(std::size_t end);

  request_limits limits_;
  stage stage_ = stage::head;
  std::size_t pos_ = 0;  // input scanned up to here
  bool started_ = false;
  std::string request_line_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::size_t header_count_ = 0;  // trailers included
  bool expect_continue_ = false;
  std::size_t length_ = 0;        // fixed_body: its length
  std::size_t chunk_left_ = 0;    // chunk_data: bytes still to come
  std::string body_;              // a chunked body, de-chunked
};

}  // namespace matchsync::http
