#define BOOST_TEST_MODULE sync_plan
#include <boost/test/unit_test.hpp>

#include "sync/sync_plan.hpp"

using namespace matchsync;
using namespace matchsync::sync;

BOOST_AUTO_TEST_SUITE(sync_plan)

BOOST_AUTO_TEST_CASE(fetching_ahead_pays_when_fetch_and_commit_are_of_a_size) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  BOOST_TEST(fetch_ahead_pays(milliseconds(4), milliseconds(8)));
  BOOST_TEST(fetch_ahead_pays(milliseconds(8), milliseconds(4)));
  BOOST_TEST(fetch_ahead_pays(milliseconds(2), milliseconds(8)));
  BOOST_TEST(!fetch_ahead_pays(milliseconds(1), milliseconds(8)));
  // A slow upstream: seconds per batch against a commit of milliseconds.
  BOOST_TEST(!fetch_ahead_pays(seconds(10), milliseconds(10)));
  // Not measured yet.
  BOOST_TEST(!fetch_ahead_pays(milliseconds(0), milliseconds(8)));
  BOOST_TEST(!fetch_ahead_pays(milliseconds(4), milliseconds(0)));
}

// Backfills: asked once, only by an incremental that stopped at the known-
// complete part on a full page; listed whole only when the upstream has more.
BOOST_AUTO_TEST_CASE(a_backfill_check_follows_only_a_stop_at_the_mark_on_a_full_page) {
  auto inc = job_type::incremental_sync;
  BOOST_TEST(backfill_check_due(inc, {9, 8, 7}, 3, 8));
  BOOST_TEST(!backfill_check_due(inc, {9, 8, 7}, 3, 6));             // not at the mark yet
  BOOST_TEST(!backfill_check_due(inc, {9, 8}, 3, 8));                // the end: all seen
  BOOST_TEST(!backfill_check_due(inc, {9, 8, 7}, 3, std::nullopt));  // a first sync
  BOOST_TEST(!backfill_check_due(job_type::full_sync, {9, 8, 7}, 3, 8));
  BOOST_TEST((history_size_of(3, 4) == std::optional<std::int64_t>(7)));
  BOOST_TEST(!history_size_of(std::nullopt, 4));
  BOOST_TEST(!history_size_of(3, -1));
  BOOST_TEST(backfill_listing_due(301, 300));
  BOOST_TEST(!backfill_listing_due(300, 300));
  BOOST_TEST(!backfill_listing_due(280, 300));  // vanished upstream: kept, nothing to list
}

BOOST_AUTO_TEST_CASE(a_short_page_ends_listing_for_both_types) {
  for (auto t : {job_type::full_sync, job_type::incremental_sync}) {
    BOOST_TEST((plan_after_page(t, {5, 4}, 3, std::nullopt) == after_page::stop_listing));
    BOOST_TEST((plan_after_page(t, {}, 3, std::nullopt) == after_page::stop_listing));
  }
}

BOOST_AUTO_TEST_CASE(a_full_page_continues_when_nothing_is_known_complete) {
  for (auto t : {job_type::full_sync, job_type::incremental_sync})
    BOOST_TEST((plan_after_page(t, {9, 8, 7}, 3, std::nullopt) == after_page::list_next));
}

BOOST_AUTO_TEST_CASE(incremental_stops_at_the_known_complete_history) {
  BOOST_TEST((plan_after_page(job_type::incremental_sync, {9, 8, 7}, 3, 7) ==
              after_page::stop_listing));
  BOOST_TEST((plan_after_page(job_type::incremental_sync, {9, 8, 7}, 3, 6) ==
              after_page::list_next));
}

BOOST_AUTO_TEST_CASE(full_sync_lists_past_the_known_complete_history) {
  BOOST_TEST((plan_after_page(job_type::full_sync, {9, 8, 7}, 3, 100) ==
              after_page::list_next));
}

// The gap trap: matches already in the table but above the complete mark
// (left by an interrupted sync) must not stop an incremental. What is stored
// is no input of the plan, so only the mark can stop it: a full page wholly
// above the mark lists on, however far above. The stored matches themselves
// are put in the way in sync_engine_pgtest (no_gaps_after_any_mix_of_...).
BOOST_AUTO_TEST_CASE(a_full_page_wholly_above_the_complete_mark_lists_on) {
  BOOST_TEST((plan_after_page(job_type::incremental_sync, {50, 49, 48}, 3, 10) ==
              after_page::list_next));
  BOOST_TEST((plan_after_page(job_type::incremental_sync, {50, 49, 48}, 3, 47) ==
              after_page::list_next));
  BOOST_TEST((plan_after_page(job_type::incremental_sync, {50, 49, 48}, 3, 48) ==
              after_page::stop_listing));
}

BOOST_AUTO_TEST_CASE(the_mark_only_rises) {
  BOOST_TEST(!raised_mark(std::nullopt, std::nullopt).has_value());
  BOOST_TEST(*raised_mark(std::nullopt, 5) == 5);
  BOOST_TEST(*raised_mark(7, std::nullopt) == 7);
  BOOST_TEST(*raised_mark(7, 5) == 7);
  BOOST_TEST(*raised_mark(7, 9) == 9);
}

BOOST_AUTO_TEST_CASE(details_scope_depends_on_the_type) {
  BOOST_TEST(details_only_lacking(job_type::incremental_sync));
  BOOST_TEST(!details_only_lacking(job_type::full_sync));
}

BOOST_AUTO_TEST_SUITE_END()
