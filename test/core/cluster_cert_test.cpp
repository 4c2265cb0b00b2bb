// The cluster's certificates: made with OpenSSL's library, checked here with
// OpenSSL's own X509_verify_cert, keys created 0600, nothing overwritten.
#define BOOST_TEST_MODULE cluster_cert
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/cluster_cert.hpp"

using namespace matchsync;
namespace cc = matchsync::cluster_cert;

namespace {

struct temp_dir {
  temp_dir() {
    char tmpl[] = "/tmp/cluster_cert_test.XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string operator/(const std::string& f) const { return path + "/" + f; }
  std::string path;
};

X509* load_cert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  BOOST_REQUIRE_MESSAGE(f != nullptr, path);
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  BOOST_REQUIRE_MESSAGE(x != nullptr, path);
  return x;
}

// OpenSSL's own verdict on `cert` against the CA file, for TLS `purpose`.
int verify_with_openssl(const std::string& ca_file, const std::string& cert_file,
                        int purpose) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_load_file(store, ca_file.c_str());
  X509* cert = load_cert(cert_file);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  int ok = X509_verify_cert(ctx);
  X509_STORE_CTX_free(ctx);
  X509_free(cert);
  X509_STORE_free(store);
  return ok;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster_cert)

BOOST_AUTO_TEST_CASE(a_node_certificate_verifies_against_its_ca_as_client_and_server) {
  temp_dir d;
  cc::create_ca(d.path);
  cc::create_node_cert(d.path, "w1", d.path);
  for (int purpose : {X509_PURPOSE_SSL_CLIENT, X509_PURPOSE_SSL_SERVER})
    BOOST_TEST(verify_with_openssl(d / "ca.crt", d / "w1.crt", purpose) == 1);
  BOOST_TEST(cc::check_node_files(d / "ca.crt", d / "w1.crt", d / "w1.key") == "");
  X509* cert = load_cert(d / "w1.crt");
  char cn[65] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
  BOOST_TEST(std::string(cn) == "w1");
  X509_free(cert);
  X509* ca = load_cert(d / "ca.crt");
  BOOST_TEST(X509_check_ca(ca) == 1);
  X509_free(ca);
}

BOOST_AUTO_TEST_CASE(keys_are_created_0600_whatever_the_umask) {
  temp_dir d;
  auto old = ::umask(0);
  cc::create_ca(d / "ca");
  cc::create_node_cert(d / "ca", "coord", d / "nodes");
  ::umask(old);
  BOOST_TEST(mode_of(d / "ca/ca.key") == 0600u);
  BOOST_TEST(mode_of(d / "nodes/coord.key") == 0600u);
  BOOST_TEST(mode_of(d / "ca/ca.crt") == 0644u);
  BOOST_TEST(mode_of(d / "nodes") == 0700u);
}

BOOST_AUTO_TEST_CASE(a_certificate_of_another_ca_does_not_verify) {
  temp_dir d;
  cc::create_ca(d / "a");
  cc::create_ca(d / "b");
  cc::create_node_cert(d / "b", "stranger", d.path);
  BOOST_TEST(verify_with_openssl(d / "a/ca.crt", d / "stranger.crt",
                                 X509_PURPOSE_SSL_CLIENT) != 1);
  auto why = cc::check_node_files(d / "a/ca.crt", d / "stranger.crt", d / "stranger.key");
  BOOST_TEST(why.find("MATCHSYNC_CLUSTER_CERT") == 0u, why);
  BOOST_TEST(why.find("does not verify") != std::string::npos, why);
}

BOOST_AUTO_TEST_CASE(existing_files_are_never_overwritten) {
  temp_dir d;
  cc::create_ca(d.path);
  auto key = slurp(d / "ca.key");
  BOOST_CHECK_EXCEPTION(cc::create_ca(d.path), cc::cert_error, [&](const cc::cert_error& e) {
    return std::string(e.what()).find("ca.key already exists") != std::string::npos;
  });
  BOOST_TEST(slurp(d / "ca.key") == key);
  cc::create_node_cert(d.path, "w1", d.path);
  auto node_key = slurp(d / "w1.key");
  BOOST_CHECK_THROW(cc::create_node_cert(d.path, "w1", d.path), cc::cert_error);
  BOOST_TEST(slurp(d / "w1.key") == node_key);
  // Only the certificate exists: the key is not written beside it either.
  ::unlink((d / "w1.key").c_str());
  BOOST_CHECK_THROW(cc::create_node_cert(d.path, "w1", d.path), cc::cert_error);
  BOOST_TEST(::access((d / "w1.key").c_str(), F_OK) != 0);
}

BOOST_AUTO_TEST_CASE(a_missing_ca_names_the_command_that_makes_one) {
  temp_dir d;
  BOOST_CHECK_EXCEPTION(cc::create_node_cert(d.path, "w1", d.path), cc::cert_error,
                        [](const cc::cert_error& e) {
                          return std::string(e.what()).find("matchsync cluster ca") !=
                                 std::string::npos;
                        });
  BOOST_TEST(::access((d / "w1.key").c_str(), F_OK) != 0);
}

BOOST_AUTO_TEST_CASE(node_names_that_are_no_plain_file_names_are_refused) {
  temp_dir d;
  cc::create_ca(d.path);
  for (const std::string& bad :
       std::vector<std::string>{"", "../w1", "a/b", ".hidden", "w 1", std::string(65, 'a')})
    BOOST_CHECK_THROW(cc::create_node_cert(d.path, bad, d.path), cc::cert_error);
  BOOST_TEST(cc::valid_node_name("worker-1.eu_west"));
}

BOOST_AUTO_TEST_CASE(the_file_check_names_the_setting_at_fault) {
  temp_dir d;
  cc::create_ca(d.path);
  cc::create_node_cert(d.path, "w1", d.path);
  cc::create_node_cert(d.path, "w2", d.path);
  auto starts = [](const std::string& s, const std::string& prefix) {
    return s.rfind(prefix, 0) == 0;
  };
  BOOST_TEST(starts(cc::check_node_files(d / "none.crt", d / "w1.crt", d / "w1.key"),
                    "MATCHSYNC_CLUSTER_CA:"));
  BOOST_TEST(starts(cc::check_node_files(d / "ca.crt", d / "w1.key", d / "w1.key"),
                    "MATCHSYNC_CLUSTER_CERT:"));
  BOOST_TEST(starts(cc::check_node_files(d / "ca.crt", d / "w1.crt", d / "w1.crt"),
                    "MATCHSYNC_CLUSTER_KEY:"));
  auto mismatch = cc::check_node_files(d / "ca.crt", d / "w1.crt", d / "w2.key");
  BOOST_TEST(starts(mismatch, "MATCHSYNC_CLUSTER_KEY:"));
  BOOST_TEST(mismatch.find("is not the key of") != std::string::npos, mismatch);
}

BOOST_AUTO_TEST_SUITE_END()
