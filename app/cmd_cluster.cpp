// `matchsync cluster ca|cert`: the cluster's certificates for TLS between
// nodes (SPEC §1), so a user never needs the openssl command line. Needs no
// config and no database.
#include <iostream>

#include "app/commands.hpp"
#include "core/cluster_cert.hpp"

namespace matchsync::app {

namespace {

const char* cluster_usage =
  "usage:\n"
  "  matchsync cluster ca --out DIR\n"
  "  matchsync cluster cert --ca DIR --node NAME --out DIR\n";

int usage_error(const std::string& message) {
  std::cerr << "matchsync: " << message << "\n" << cluster_usage;
  return 2;
}

}  // namespace

int run_cluster(const std::vector<std::string>& args) {
  if (args.empty() || (args[0] != "ca" && args[0] != "cert"))
    return usage_error(args.empty() ? "cluster: which command?"
                                    : "unknown command 'cluster " + args[0] + "'");
  const auto& what = args[0];
  std::string out, ca, node;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const auto& a = args[i];
    std::string* target = a == "--out"                    ? &out
                          : a == "--ca" && what == "cert"   ? &ca
                          : a == "--node" && what == "cert" ? &node
                                                            : nullptr;
    if (target == nullptr)
      return usage_error("unknown option '" + a + "' for 'cluster " + what + "'");
    if (i + 1 >= args.size() || args[i + 1].empty())
      return usage_error(a + ": missing value");
    *target = args[++i];
  }
  if (out.empty())
    return usage_error("cluster " + what + ": --out DIR is required");
  if (what == "cert" && (ca.empty() || node.empty()))
    return usage_error("cluster cert: --ca DIR and --node NAME are required");
  try {
    if (what == "ca") {
      cluster_cert::create_ca(out);
      std::cout << "created " << out << "/ca.crt and " << out << "/ca.key (keep ca.key "
                << "off the nodes; it signs node certificates)" << std::endl;
    } else {
      cluster_cert::create_node_cert(ca, node, out);
      std::cout << "created " << out << "/" << node << ".crt and " << out << "/" << node
                << ".key" << std::endl;
    }
  } catch (const cluster_cert::cert_error& e) {
    std::cerr << "matchsync: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}

}  // namespace matchsync::app
