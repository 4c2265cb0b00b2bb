// Browser test of the matchsync dashboard against a running server.
//   MATCHSYNC_DASHBOARD_URL    the server's base URL (required)
//   MATCHSYNC_TOKEN            an API token when the server runs with auth on
//   FAKE_OPENDOTA_URL          the fake OpenDota's base URL (optional)
//   MATCHSYNC_TEST_OUTPUT_DIR  screenshots (default ./output)
//   MATCHSYNC_TEST_QUOTA_WAIT  1 when the server's daily quota runs out after a
//                              few requests (the quota-wait scenario; else skipped)
// Run: cd test/browser && npm ci && node --test dashboard.test.mjs

import { dashboardScenarios } from './dashboard_scenarios.mjs';

dashboardScenarios({
  baseUrl: process.env.MATCHSYNC_DASHBOARD_URL || '',
  token: process.env.MATCHSYNC_TOKEN || '',
  fakeUpstreamUrl: process.env.FAKE_OPENDOTA_URL || '',
  outputDir: process.env.MATCHSYNC_TEST_OUTPUT_DIR || './output',
  quotaWait: process.env.MATCHSYNC_TEST_QUOTA_WAIT === '1',
});
