// The front door's request checks alone: bytes in, a verdict out.
#define BOOST_TEST_MODULE request_reader
#include <boost/test/unit_test.hpp>

#include "http/elastic_pool.hpp"
#include "http/request_reader.hpp"

#include <condition_variable>
#include <mutex>

using namespace matchsync::http;
using kind = request_verdict::kind;

namespace {

request_verdict read_all(const std::string& bytes) {
  request_reader r;
  return r.examine(bytes);
}

std::string head(const std::string& lines) {
  return "POST /sync/trigger HTTP/1.1\r\nHost: 127.0.0.1\r\n" + lines + "\r\n";
}

std::string chunked(std::size_t chunks, std::size_t size) {
  std::string out;
  char hex[16];
  std::snprintf(hex, sizeof hex, "%zx", size);
  for (std::size_t i = 0; i < chunks; ++i)
    out += std::string(hex) + "\r\n" + std::string(size, 'a') + "\r\n";
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_plain_request_passes_with_its_framing_made_explicit) {
  auto v = read_all("GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /next");
  BOOST_REQUIRE(v.what == kind::complete);
  BOOST_TEST(v.request == "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  BOOST_TEST(v.consumed == 33u);  // the pipelined request after it stays
}

BOOST_AUTO_TEST_CASE(more_than_100_headers_is_431_before_the_head_ends) {
  std::string lines;
  for (int i = 0; i < 101; ++i)
    lines += "X-" + std::to_string(i) + ": y\r\n";
  request_reader r;
  auto v = r.examine("GET / HTTP/1.1\r\n" + lines);  // no blank line yet
  BOOST_TEST((v.what == kind::refused));
  BOOST_TEST(v.status == 431);
  std::string hundred;
  for (int i = 0; i < 99; ++i)
    hundred += "X-" + std::to_string(i) + ": y\r\n";
  BOOST_TEST((read_all("GET / HTTP/1.1\r\nHost: x\r\n" + hundred + "\r\n").what == kind::complete));
}

BOOST_AUTO_TEST_CASE(a_header_line_over_8_KiB_is_431_even_before_it_ends) {
  request_reader r;
  auto v = r.examine("GET / HTTP/1.1\r\nX-Big: " + std::string(8200, 'a'));
  BOOST_TEST(v.status == 431);
  auto uri = read_all("GET /" + std::string(9000, 'a'));
  BOOST_TEST(uri.status == 414);
}

BOOST_AUTO_TEST_CASE(a_content_length_that_is_not_a_number_or_differs_is_400) {
  for (auto bad : {"abc", "-1", "1e3", "", "0x10", "5, 5"})
    BOOST_TEST(read_all(head(std::string("Content-Length: ") + bad + "\r\n")).status == 400, bad);
  BOOST_TEST(read_all(head("Content-Length: 2\r\nContent-Length: 3\r\n") + "{}").status == 400);
  auto same = read_all(head("Content-Length: 2\r\nContent-Length: 002\r\n") + "{}");
  BOOST_TEST((same.what == kind::complete));
  BOOST_TEST(read_all(head("Content-Length: 2\r\nTransfer-Encoding: chunked\r\n")).status == 400);
}

BOOST_AUTO_TEST_CASE(a_chunked_body_counts_against_64_KiB_as_it_arrives) {
  // 72 chunks of 1 KiB: refused at the 65th chunk's size line, before the
  // rest is sent.
  request_reader r;
  auto v = r.examine(head("Transfer-Encoding: chunked\r\n") + chunked(64, 1024) + "400\r\n");
  BOOST_TEST(v.status == 413);
  auto ok = read_all(head("Transfer-Encoding: chunked\r\n") + chunked(2, 3) + "0\r\n\r\n");
  BOOST_REQUIRE((ok.what == kind::complete));
  BOOST_TEST(ok.request.find("Transfer-Encoding") == std::string::npos);
  std::string tail = "\r\nContent-Length: 6\r\n\r\naaaaaa";
  BOOST_TEST(ok.request.substr(ok.request.size() - tail.size()) == tail);
  BOOST_TEST(read_all(head("Transfer-Encoding: chunked\r\n") + "zz\r\n").status == 400);
  BOOST_TEST(read_all(head("Transfer-Encoding: gzip\r\n")).status == 501);
  BOOST_TEST(read_all(head("Content-Length: 70000\r\n")).status == 413);
}

BOOST_AUTO_TEST_CASE(a_compressed_request_body_is_415) {
  BOOST_TEST(read_all(head("Content-Encoding: gzip\r\nContent-Length: 2\r\n")).status == 415);
  BOOST_TEST(read_all(head("Content-Encoding: br\r\n")).status == 415);
}

BOOST_AUTO_TEST_CASE(range_and_expect_are_not_passed_on) {
  auto v = read_all("GET /dashboard.js HTTP/1.1\r\nRange: bytes=0-0,1-1\r\n\r\n");
  BOOST_REQUIRE((v.what == kind::complete));
  BOOST_TEST(v.request.find("Range") == std::string::npos);
  request_reader r;
  auto wait = r.examine(head("Expect: 100-continue\r\nContent-Length: 2\r\n"));
  BOOST_TEST((wait.what == kind::incomplete));
  BOOST_TEST(wait.wants_continue);
  auto done = r.examine(head("Expect: 100-continue\r\nContent-Length: 2\r\n") + "{}");
  BOOST_REQUIRE((done.what == kind::complete));
  BOOST_TEST(done.request.find("Expect") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_request_trickled_byte_by_byte_reads_the_same) {
  auto whole = head("Transfer-Encoding: chunked\r\n") + chunked(3, 17) + "0\r\nX-T: 1\r\n\r\n";
  request_reader r;
  std::string got;
  request_verdict v;
  for (char c : whole) {
    got += c;
    v = r.examine(got);
    BOOST_TEST(r.started());
    if (v.what != kind::incomplete)
      break;
  }
  BOOST_REQUIRE((v.what == kind::complete));
  BOOST_TEST(v.consumed == whole.size());
  BOOST_TEST((v.request == read_all(whole).request));
}

BOOST_AUTO_TEST_CASE(a_saturated_pool_refuses_a_task_instead_of_queueing_it) {
  elastic_pool pool(1, 2, std::chrono::seconds(10));
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  int started = 0;
  auto hold = [&] {
    std::unique_lock<std::mutex> lock(m);
    ++started;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  };
  std::function<void()> a = hold, b = hold, c = hold;
  BOOST_TEST(pool.try_submit(a));
  BOOST_TEST(pool.try_submit(b));
  {
    std::unique_lock<std::mutex> lock(m);
    BOOST_REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return started == 2; }));
  }
  BOOST_TEST(!pool.try_submit(c));  // both threads busy: refused at once
  {
    std::lock_guard<std::mutex> lock(m);
    release = true;
  }
  cv.notify_all();
  pool.shutdown();
}

// A thread the pool just started counts as free before it reaches its wait:
// counted busy, the first tasks started needless threads, and under load the
// pool refused a task while its first thread had not yet begun to wait.
BOOST_AUTO_TEST_CASE(a_thread_just_started_counts_as_free) {
  elastic_pool pool(2, 4, std::chrono::seconds(10));
  BOOST_TEST(pool.snapshot().idle == 2u);
  std::function<void()> nothing = [] {};
  BOOST_TEST(pool.try_submit(nothing));
  BOOST_TEST(pool.snapshot().threads == 2u);  // one of the two free takes it
  pool.shutdown();
}
