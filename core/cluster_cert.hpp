// The cluster's certificates: a CA of its own and node certificates signed by
// it, made with OpenSSL's library (no openssl command line), and the check a
// node runs on its three PEM files before it starts TLS with them.
#pragma once

#include <stdexcept>
#include <string>

namespace matchsync::cluster_cert {

/// A certificate could not be made or a file is unusable; what() is one line.
struct cert_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Creates `dir` (0700) when missing, then `dir/ca.crt` and `dir/ca.key`
/// (EC P-256, self-signed, valid 10 years). The key is created 0600. Throws
/// cert_error, writing nothing, when either file exists.
void create_ca(const std::string& dir);

/// Creates `out_dir/NAME.crt` and `out_dir/NAME.key` for node `node`, signed
/// by the CA in `ca_dir` (valid 5 years, usable as TLS client and server).
/// `node` is 1-64 of [A-Za-z0-9._-], not starting with '.'. Throws
/// cert_error for a missing or unreadable CA, a bad name or an existing file.
void create_node_cert(const std::string& ca_dir, const std::string& node,
                      const std::string& out_dir);

/// Checks a node's TLS files: each is readable PEM, the key is the
/// certificate's, the certificate verifies against the CA (and is in its
/// validity period). Returns "" or one line naming the setting at fault
/// (MATCHSYNC_CLUSTER_CA, _CERT or _KEY).
std::string check_node_files(const std::string& ca, const std::string& cert,
                             const std::string& key);

/// True when `node` may name a node certificate (and its file names).
bool valid_node_name(const std::string& node);

}  // namespace matchsync::cluster_cert
