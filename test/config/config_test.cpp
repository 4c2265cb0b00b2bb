#define BOOST_TEST_MODULE config
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>

#include "config/config.hpp"

using namespace matchsync;

namespace {
// The message of the config_error that `fn` throws, or "" if none.
template <class F>
std::string error_of(F fn) {
  try {
    fn();
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

BOOST_AUTO_TEST_SUITE(config_loading)

BOOST_AUTO_TEST_CASE(schedule_quota_share_defaults_to_80_percent_within_0_to_100) {
  BOOST_TEST(load_config({}, {}, {}).schedule_quota_share == 80);
  BOOST_TEST(load_config({}, {{"schedule_quota_share", "50"}}, {}).schedule_quota_share == 50);
  auto e = error_of([] { load_config({}, {{"schedule_quota_share", "101"}}, {}); });
  BOOST_TEST(e.find("MATCHSYNC_SCHEDULE_QUOTA_SHARE") != std::string::npos, e);
}

BOOST_AUTO_TEST_CASE(job_retention_days_defaults_to_90_and_0_keeps_for_ever) {
  BOOST_TEST(load_config({}, {}, {}).job_retention_days == 90);
  BOOST_TEST(load_config({}, {{"job_retention_days", "0"}}, {}).job_retention_days == 0);
  BOOST_TEST(load_config({{"job_retention_days", "30"}}, {}, {}).job_retention_days == 30);
  auto e = error_of([] { load_config({}, {{"job_retention_days", "-1"}}, {}); });
  BOOST_TEST(e.find("MATCHSYNC_JOB_RETENTION_DAYS") != std::string::npos, e);
}

BOOST_AUTO_TEST_CASE(defaults_match_the_contract) {
  auto c = load_config({}, {}, {});
  BOOST_TEST(c.http_host == "127.0.0.1");
  BOOST_TEST(c.http_port == 8080);
  BOOST_TEST(c.auth == "token");
  BOOST_TEST(c.upstream_url == "https://api.opendota.com");
  BOOST_TEST(c.upstream_rate_per_minute == 60);
  BOOST_TEST(c.upstream_page_size == 100);
  BOOST_TEST(c.slots == 16);
  BOOST_TEST(c.cluster_host == "127.0.0.1");
  BOOST_TEST(c.cluster_port == 4242);
  BOOST_TEST(c.job_lease_s == 15);
  BOOST_TEST(c.cancel_timeout_ms == 2000);
  BOOST_TEST(c.log_format == "text");
  BOOST_TEST(!c.node_id.empty());
}

BOOST_AUTO_TEST_CASE(flag_beats_env_beats_file_beats_default) {
  setting_map file{{"http_port", "1001"}, {"slots", "3"}, {"node_id", "f"}};
  setting_map env{{"http_port", "1002"}, {"slots", "4"}};
  setting_map flags{{"http_port", "1003"}};
  auto c = load_config(file, env, flags);
  BOOST_TEST(c.http_port == 1003);
  BOOST_TEST(c.slots == 4);
  BOOST_TEST(c.node_id == "f");
  BOOST_TEST(c.cancel_timeout_ms == 2000);
}

BOOST_AUTO_TEST_CASE(out_of_range_port_names_the_env_key) {
  auto msg = error_of([] { load_config({}, {{"http_port", "70000"}}, {}); });
  BOOST_TEST(msg.find("MATCHSYNC_HTTP_PORT") != std::string::npos);
  BOOST_TEST(msg.find("70000") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(node_timeout_defaults_to_the_lease) {
  auto c = load_config({}, {{"job_lease_s", "7"}}, {});
  BOOST_TEST(node_timeout_s(c) == 7);
  auto set = load_config({}, {{"job_lease_s", "7"}, {"node_timeout_s", "3"}}, {});
  BOOST_TEST(node_timeout_s(set) == 3);
  BOOST_TEST(error_of([] { load_config({}, {{"node_timeout_s", "-1"}}, {}); }) != "");
}

BOOST_AUTO_TEST_CASE(db_pool_size_defaults_to_16_and_refuses_zero) {
  BOOST_TEST(load_config({}, {}, {}).db_pool_size == 16);
  BOOST_TEST(load_config({}, {{"db_pool_size", "4"}}, {}).db_pool_size == 4);
  auto msg = error_of([] { load_config({}, {{"db_pool_size", "0"}}, {}); });
  BOOST_TEST(msg.find("MATCHSYNC_DB_POOL_SIZE") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unknown_auth_mode_is_refused) {
  auto msg = error_of([] { load_config({{"auth", "maybe"}}, {}, {}); });
  BOOST_TEST(msg.find("auth") != std::string::npos);
  BOOST_TEST(msg.find("config file") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unparsable_upstream_url_is_refused_and_demo_accepted) {
  auto msg = error_of([] { load_config({}, {{"upstream_url", "ftp:/x"}}, {}); });
  BOOST_TEST(msg.find("MATCHSYNC_UPSTREAM_URL") != std::string::npos);
  BOOST_TEST(error_of([] { load_config({}, {{"upstream_url", "http://"}}, {}); }) != "");
  auto c = load_config({}, {{"upstream_url", "demo"}}, {});
  BOOST_TEST(c.upstream_url == "demo");
  auto d = load_config({}, {{"upstream_url", "http://127.0.0.1:9/"}}, {});
  BOOST_TEST(d.upstream_url == "http://127.0.0.1:9");
}

BOOST_AUTO_TEST_CASE(non_numeric_values_are_refused) {
  BOOST_TEST(error_of([] { load_config({}, {{"slots", "many"}}, {}); }) != "");
  BOOST_TEST(error_of([] { load_config({}, {{"slots", "4x"}}, {}); }) != "");
  BOOST_TEST(error_of([] { load_config({}, {{"job_lease_s", "0"}}, {}); }) != "");
}

BOOST_AUTO_TEST_CASE(unknown_setting_in_the_file_is_refused) {
  auto msg = error_of([] { load_config({{"htp_port", "1"}}, {}, {}); });
  BOOST_TEST(msg.find("htp_port") != std::string::npos);
}

// The environment is shared: another tool's MATCHSYNC_* variable must not
// stop the service; it is listed for a warning instead.
BOOST_AUTO_TEST_CASE(unknown_environment_variable_is_ignored_and_named) {
  auto c = load_config({}, {{"htp_port", "1"}, {"http_port", "9001"}}, {});
  BOOST_TEST(c.http_port == 9001);
  BOOST_TEST(c.ignored_env == (std::vector<std::string>{"MATCHSYNC_HTP_PORT"}));
}

BOOST_AUTO_TEST_CASE(auth_none_requires_a_default_account) {
  auto msg = error_of([] { load_config({}, {{"auth", "none"}}, {}); });
  BOOST_TEST(msg.find("MATCHSYNC_DEFAULT_ACCOUNT_ID") != std::string::npos);
  auto c = load_config({}, {{"auth", "none"}, {"default_account_id", "42"}}, {});
  BOOST_TEST(*c.default_account_id == 42);
}

BOOST_AUTO_TEST_CASE(config_file_text_parses_comments_and_quotes) {
  auto m = parse_config_text("# comment\nhttp_port = 9000  # trailing\n"
                             "\nnode_id = \"a b\"\n");
  BOOST_TEST(m.size() == 2u);
  BOOST_TEST(m["http_port"] == "9000");
  BOOST_TEST(m["node_id"] == "a b");
  BOOST_TEST(error_of([] { parse_config_text("just words\n"); }).find("line 1") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(environment_variables_are_collected_by_prefix) {
  std::string a = "MATCHSYNC_HTTP_PORT=1234", b = "OTHER=1",
              t = "MATCHSYNC_TEST_PG_URL_FILE=/x";
  char* env[] = {a.data(), b.data(), t.data(), nullptr};
  auto m = settings_from_environment(env);
  BOOST_TEST(m.size() == 1u);
  BOOST_TEST(m["http_port"] == "1234");
}

BOOST_AUTO_TEST_CASE(a_half_set_of_cluster_tls_files_names_the_missing_setting) {
  auto msg = error_of([] {
    load_config({{"cluster_ca", "/x/ca.crt"}}, {{"cluster_cert", "/x/n.crt"}}, {});
  });
  BOOST_TEST(msg.find("MATCHSYNC_CLUSTER_KEY: required with MATCHSYNC_CLUSTER_CA, "
                      "MATCHSYNC_CLUSTER_CERT") == 0u, msg);
  msg = error_of([] { load_config({}, {{"cluster_key", "/x/n.key"}}, {}); });
  BOOST_TEST(msg.find("MATCHSYNC_CLUSTER_CA, MATCHSYNC_CLUSTER_CERT: required") == 0u, msg);
}

BOOST_AUTO_TEST_CASE(cluster_tls_is_on_with_the_three_files_and_refuses_contradictions) {
  setting_map files{{"cluster_ca", "ca.crt"}, {"cluster_cert", "n.crt"}, {"cluster_key", "n.key"}};
  BOOST_TEST(cluster_tls_on(load_config(files, {}, {})));
  BOOST_TEST(!cluster_tls_on(load_config({}, {}, {})));
  BOOST_TEST(!cluster_tls_on(load_config({}, {{"cluster_tls", "off"}}, {})));
  BOOST_TEST(error_of([] { load_config({}, {{"cluster_tls", "on"}}, {}); })
               .find("MATCHSYNC_CLUSTER_TLS: 'on' needs") == 0u);
  BOOST_TEST(error_of([&] { load_config(files, {{"cluster_tls", "off"}}, {}); })
               .find("MATCHSYNC_CLUSTER_TLS: 'off' while") == 0u);
  BOOST_TEST(error_of([] { load_config({}, {{"cluster_tls", "maybe"}}, {}); })
               .find("MATCHSYNC_CLUSTER_TLS") == 0u);
}

BOOST_AUTO_TEST_CASE(only_loopback_addresses_count_as_loopback) {
  for (auto h : {"127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"})
    BOOST_TEST(is_loopback_host(h), h);
  for (auto h : {"", "0.0.0.0", "10.0.0.1", "::", "128.0.0.1", "127.0.0.1.example.com",
                 "127.0.0.256", "example.com"})
    BOOST_TEST(!is_loopback_host(h), h);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(example_file)

BOOST_AUTO_TEST_CASE(the_example_config_lists_valid_keys_with_their_defaults) {
  std::ifstream in(std::string(MATCHSYNC_SOURCE_DIR) + "/config/matchsync.example.conf");
  BOOST_REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  auto settings = parse_config_text(ss.str());
  BOOST_TEST(settings.size() >= 20u);
  auto from_file = load_config(settings, {}, {});
  auto defaults = load_config({}, {}, {});
  BOOST_TEST(from_file.http_port == defaults.http_port);
  BOOST_TEST(from_file.upstream_url == defaults.upstream_url);
  BOOST_TEST(from_file.slots == defaults.slots);
  BOOST_TEST(from_file.cancel_timeout_ms == defaults.cancel_timeout_ms);
  BOOST_TEST(from_file.job_lease_s == defaults.job_lease_s);
}

BOOST_AUTO_TEST_SUITE_END()

// Issue 15: the upstream's key, daily quota and day.
BOOST_AUTO_TEST_SUITE(upstream_quota_settings)

BOOST_AUTO_TEST_CASE(a_key_that_is_not_a_uuid_stops_the_program_naming_the_setting) {
  auto msg = error_of([] {
    load_config({}, {{"upstream_api_key", "my-secret-key-1234"}}, {});
  });
  BOOST_TEST(msg.find("MATCHSYNC_UPSTREAM_API_KEY") != std::string::npos, msg);
  BOOST_TEST(msg.find("UUID") != std::string::npos, msg);
  BOOST_TEST(msg.find("my-secret-key-1234") == std::string::npos, msg);
  auto c = load_config({}, {{"upstream_api_key", "0B4C1E2A-8D3F-4A6B-9C7D-1E2F3A4B5C6D"}}, {});
  BOOST_TEST(c.upstream_api_key == "0B4C1E2A-8D3F-4A6B-9C7D-1E2F3A4B5C6D");
}

BOOST_AUTO_TEST_CASE(daily_limit_defaults_to_2000_without_a_key_and_none_with_one) {
  BOOST_TEST(load_config({}, {}, {}).upstream_daily_limit == 2000);
  BOOST_TEST(load_config({}, {{"upstream_api_key", "0b4c1e2a-8d3f-4a6b-9c7d-1e2f3a4b5c6d"}}, {})
               .upstream_daily_limit == 0);
  BOOST_TEST(load_config({}, {{"upstream_daily_limit", "50"}}, {}).upstream_daily_limit == 50);
  BOOST_TEST(load_config({}, {{"upstream_daily_limit", "0"}}, {}).upstream_daily_limit == 0);
  BOOST_TEST(error_of([] { load_config({}, {{"upstream_daily_limit", "-1"}}, {}); })
               .find("MATCHSYNC_UPSTREAM_DAILY_LIMIT") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(day_start_is_hh_mm_utc) {
  BOOST_TEST(load_config({}, {}, {}).upstream_day_start_minute == 0);
  BOOST_TEST(load_config({}, {{"upstream_day_start_utc", "01:30"}}, {}).upstream_day_start_minute == 90);
  for (auto* bad : {"1:30", "24:00", "12:60", "12-30", "12:30x", "", "ab:cd"})
    BOOST_TEST(error_of([bad] { load_config({}, {{"upstream_day_start_utc", bad}}, {}); })
                 .find("MATCHSYNC_UPSTREAM_DAY_START_UTC") != std::string::npos,
               bad);
}

BOOST_AUTO_TEST_SUITE_END()
