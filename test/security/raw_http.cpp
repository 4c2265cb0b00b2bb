#include "test/security/raw_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>

#include <boost/test/unit_test.hpp>

#include "test/support/process.hpp"

namespace matchsync::test {

std::string user_token(const std::string& db_url, std::int64_t account,
                       const std::string& name) {
  std::vector<std::string> argv{binary_path("app/matchsync"), "user", "add", "--account-id",
                                std::to_string(account)};
  if (!name.empty()) {
    argv.push_back("--name");
    argv.push_back(name);
  }
  child_process p(argv, {{"MATCHSYNC_DATABASE_URL", db_url}});
  BOOST_REQUIRE_MESSAGE(p.wait_exit(std::chrono::seconds(30)) == 0, p.output());
  auto out = p.output();
  out.erase(out.find_last_not_of('\n') + 1);
  auto token = out.substr(out.rfind('\n') + 1);
  BOOST_REQUIRE(token.size() >= 20);
  return token;
}

int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string send_raw(int port, const std::string& bytes, std::chrono::milliseconds deadline) {
  int fd = connect_loopback(port);
  if (fd < 0)
    return "";
  for (std::size_t off = 0; off < bytes.size();) {
    auto n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      break;  // the server refused and closed: its answer may be waiting
    off += static_cast<std::size_t>(n);
  }
  auto out = read_raw(fd, deadline);
  ::close(fd);
  return out;
}

std::string read_raw(int fd, std::chrono::milliseconds deadline, const std::string& until) {
  std::string out;
  char buf[8192];
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end &&
         (until.empty() || out.find(until) == std::string::npos)) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0)
      continue;
    auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0)
      break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

int status_of(const std::string& answer) {
  std::smatch m;
  if (std::regex_search(answer, m, std::regex(R"(^HTTP/1\.[01] (\d{3}))")))
    return std::stoi(m[1]);
  return 0;
}

}  // namespace matchsync::test
