#include "core/cluster_cert.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace matchsync::cluster_cert {

namespace {

template <class T, void (*Free)(T*)>
struct deleter {
  void operator()(T* p) const { Free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509, X509_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO, BIO_free_all>>;
using bn_ptr = std::unique_ptr<BIGNUM, deleter<BIGNUM, BN_free>>;
using store_ptr = std::unique_ptr<X509_STORE, deleter<X509_STORE, X509_STORE_free>>;
using store_ctx_ptr =
  std::unique_ptr<X509_STORE_CTX, deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;

constexpr long year_s = 365L * 24 * 3600;

std::string ssl_error() {
  auto e = ERR_get_error();
  ERR_clear_error();
  if (e == 0)
    return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

[[noreturn]] void fail(const std::string& what) { throw cert_error(what); }

// An encrypted key is refused instead of prompting on the terminal.
int no_passphrase(char*, int, int, void*) { return -1; }

x509_ptr read_cert(const std::string& path) {
  bio_ptr in(BIO_new_file(path.c_str(), "r"));
  x509_ptr out(in ? PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr) : nullptr);
  ERR_clear_error();
  return out;
}

pkey_ptr read_key(const std::string& path) {
  bio_ptr in(BIO_new_file(path.c_str(), "r"));
  pkey_ptr out(in ? PEM_read_bio_PrivateKey(in.get(), nullptr, no_passphrase, nullptr)
                  : nullptr);
  ERR_clear_error();
  return out;
}

pkey_ptr new_key() {
  pkey_ptr key(EVP_EC_gen("P-256"));
  if (!key)
    fail("cannot create a key: " + ssl_error());
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr)
    fail(std::string("cannot add extension ") + OBJ_nid2sn(nid) + ": " + ssl_error());
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` named `cn`, valid from an hour ago (clock skew
// between nodes) for `years`, with a random positive 159-bit serial.
x509_ptr new_cert(EVP_PKEY* key, const std::string& cn, long years) {
  x509_ptr cert(X509_new());
  bn_ptr serial(BN_new());
  if (!cert || !serial || X509_set_version(cert.get(), 2) != 1 ||
      BN_rand(serial.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), years * year_s) == nullptr ||
      X509_set_pubkey(cert.get(), key) != 1)
    fail("cannot create a certificate: " + ssl_error());
  auto* name = X509_get_subject_name(cert.get());
  auto text = [](const std::string& s) {
    return reinterpret_cast<const unsigned char*>(s.c_str());
  };
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, text("matchsync cluster"), -1,
                                 -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, text(cn), -1, -1, 0) != 1)
    fail("cannot name a certificate: " + ssl_error());
  return cert;
}

void sign(X509* cert, EVP_PKEY* key) {
  if (X509_sign(cert, key, EVP_sha256()) <= 0)
    fail("cannot sign a certificate: " + ssl_error());
}

std::string pem(X509* cert) {
  bio_ptr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_X509(out.get(), cert) != 1)
    fail("cannot encode a certificate: " + ssl_error());
  char* data = nullptr;
  auto n = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string pem(EVP_PKEY* key) {
  bio_ptr out(BIO_new(BIO_s_mem()));
  if (!out ||
      PEM_write_bio_PrivateKey(out.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    fail("cannot encode a key: " + ssl_error());
  char* data = nullptr;
  auto n = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

void ensure_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0)
    return;
  struct stat st;
  if (errno == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return;
  fail("cannot create directory " + dir + ": " + std::strerror(errno));
}

// Created with its final mode and O_EXCL: a key is never readable by others,
// not even for a moment, and nothing existing is ever overwritten.
void write_new(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST)
      fail(path + " already exists (not overwritten)");
    fail("cannot create " + path + ": " + std::strerror(errno));
  }
  std::size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      auto err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      fail("cannot write " + path + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(path.c_str());
    fail("cannot write " + path + ": " + std::strerror(errno));
  }
}

// Writes a key and its certificate, both or neither.
void write_pair(const std::string& key_path, EVP_PKEY* key, const std::string& cert_path,
                X509* cert) {
  for (auto& p : {key_path, cert_path})
    if (exists(p))
      fail(p + " already exists (not overwritten)");
  auto key_text = pem(key);
  auto cert_text = pem(cert);
  write_new(key_path, key_text, 0600);
  try {
    write_new(cert_path, cert_text, 0644);
  } catch (const cert_error&) {
    ::unlink(key_path.c_str());
    throw;
  }
}

std::string join(const std::string& dir, const std::string& file) {
  return !dir.empty() && dir.back() == '/' ? dir + file : dir + "/" + file;
}

// "" when `cert` chains to a CA in `ca_file` for TLS use as `purpose`.
std::string verify(const std::string& ca_file, X509* cert, int purpose) {
  store_ptr store(X509_STORE_new());
  store_ctx_ptr ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_load_file(store.get(), ca_file.c_str()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert, nullptr) != 1 ||
      X509_STORE_CTX_set_purpose(ctx.get(), purpose) != 1)
    return ssl_error();
  if (X509_verify_cert(ctx.get()) == 1)
    return "";
  ERR_clear_error();
  return X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
}

}  // namespace

bool valid_node_name(const std::string& node) {
  if (node.empty() || node.size() > 64 || node[0] == '.')
    return false;
  for (char c : node)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
      return false;
  return true;
}

void create_ca(const std::string& dir) {
  auto key_path = join(dir, "ca.key"), cert_path = join(dir, "ca.crt");
  ensure_dir(dir);
  auto key = new_key();
  auto cert = new_cert(key.get(), "matchsync cluster CA", 10);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  add_ext(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_ext(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  sign(cert.get(), key.get());
  write_pair(key_path, key.get(), cert_path, cert.get());
}

void create_node_cert(const std::string& ca_dir, const std::string& node,
                      const std::string& out_dir) {
  if (!valid_node_name(node))
    fail("node name '" + node +
         "' must be 1-64 letters, digits, '.', '_' or '-', not starting with '.'");
  auto ca_cert_path = join(ca_dir, "ca.crt"), ca_key_path = join(ca_dir, "ca.key");
  auto ca_cert = read_cert(ca_cert_path);
  if (!ca_cert)
    fail("no cluster CA in " + ca_dir + ": " + ca_cert_path +
         " is not a readable PEM certificate (create one with 'matchsync cluster ca --out " +
         ca_dir + "')");
  auto ca_key = read_key(ca_key_path);
  if (!ca_key)
    fail("no cluster CA in " + ca_dir + ": " + ca_key_path +
         " is not a readable, unencrypted PEM key");
  if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1) {
    ERR_clear_error();
    fail(ca_key_path + " is not the key of " + ca_cert_path);
  }
  auto key_path = join(out_dir, node + ".key"), cert_path = join(out_dir, node + ".crt");
  ensure_dir(out_dir);
  auto key = new_key();
  auto cert = new_cert(key.get(), node, 5);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  add_ext(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert.get(), ca_cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
  add_ext(cert.get(), ca_cert.get(), NID_ext_key_usage, "serverAuth,clientAuth");
  add_ext(cert.get(), ca_cert.get(), NID_subject_key_identifier, "hash");
  add_ext(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always");
  sign(cert.get(), ca_key.get());
  write_pair(key_path, key.get(), cert_path, cert.get());
}

std::string check_node_files(const std::string& ca, const std::string& cert,
                             const std::string& key) {
  if (!read_cert(ca))
    return "MATCHSYNC_CLUSTER_CA: '" + ca + "' is not a readable PEM certificate";
  auto node_cert = read_cert(cert);
  if (!node_cert)
    return "MATCHSYNC_CLUSTER_CERT: '" + cert + "' is not a readable PEM certificate";
  auto node_key = read_key(key);
  if (!node_key)
    return "MATCHSYNC_CLUSTER_KEY: '" + key + "' is not a readable, unencrypted PEM key";
  if (X509_check_private_key(node_cert.get(), node_key.get()) != 1) {
    ERR_clear_error();
    return "MATCHSYNC_CLUSTER_KEY: '" + key + "' is not the key of '" + cert + "'";
  }
  // A node is a TLS client (worker) and server (coordinator) in turn.
  for (int purpose : {X509_PURPOSE_SSL_CLIENT, X509_PURPOSE_SSL_SERVER}) {
    auto why = verify(ca, node_cert.get(), purpose);
    if (!why.empty())
      return "MATCHSYNC_CLUSTER_CERT: '" + cert + "' does not verify against '" + ca +
             "': " + why;
  }
  return "";
}

}  // namespace matchsync::cluster_cert
