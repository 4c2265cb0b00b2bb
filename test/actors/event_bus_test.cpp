#define BOOST_TEST_MODULE event_bus
#include <boost/test/unit_test.hpp>

#include <thread>

#include "actors/event_bus.hpp"

using namespace matchsync;
using namespace std::chrono_literals;

namespace {
sync_job job(std::int64_t id, std::int64_t user) {
  sync_job j;
  j.id = id;
  j.user_id = user;
  return j;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(event_bus_delivery)

BOOST_AUTO_TEST_CASE(a_listener_gets_its_users_changes_in_order) {
  event_bus bus;
  auto mine = bus.subscribe(1);
  auto other = bus.subscribe(2);
  bus.publish(job(10, 1));
  bus.publish(job(11, 2));
  bus.publish(job(12, 1));
  BOOST_TEST(std::get<sync_job>(*mine->next(0ms)).id == 10);
  BOOST_TEST(std::get<sync_job>(*mine->next(0ms)).id == 12);
  BOOST_TEST(!mine->next(0ms).has_value());
  BOOST_TEST(std::get<sync_job>(*other->next(0ms)).id == 11);
}

BOOST_AUTO_TEST_CASE(a_wait_reaches_its_users_listeners_between_changes) {
  event_bus bus;
  auto mine = bus.subscribe(1);
  auto other = bus.subscribe(2);
  bus.publish(job(10, 1));
  bus.publish_wait(job_wait{1, 10, "rate_limited", 2000, 1});
  bus.publish(job(10, 1));
  BOOST_TEST(std::holds_alternative<sync_job>(*mine->next(0ms)));
  auto wait = mine->next(0ms);
  BOOST_TEST_REQUIRE(std::holds_alternative<job_wait>(*wait));
  BOOST_TEST(std::get<job_wait>(*wait).job_id == 10);
  BOOST_TEST(std::get<job_wait>(*wait).wait_ms == 2000);
  BOOST_TEST(std::holds_alternative<sync_job>(*mine->next(0ms)));
  BOOST_TEST(!other->next(0ms).has_value());
}

BOOST_AUTO_TEST_CASE(a_final_row_published_twice_reaches_a_listener_once) {
  event_bus bus;
  auto mine = bus.subscribe(1);
  auto running = job(10, 1);
  running.status = job_status::running;
  auto cancelled = job(10, 1);
  cancelled.status = job_status::cancelled;
  bus.publish(running);
  bus.publish(running);  // progress may repeat: each change is delivered
  bus.publish(cancelled);  // the cancel's answer
  bus.publish(cancelled);  // the job actor's last word, the same row
  BOOST_TEST((std::get<sync_job>(*mine->next(0ms)).status == job_status::running));
  BOOST_TEST((std::get<sync_job>(*mine->next(0ms)).status == job_status::running));
  BOOST_TEST((std::get<sync_job>(*mine->next(0ms)).status == job_status::cancelled));
  BOOST_TEST(!mine->next(0ms).has_value());
  // Another job's end is news again.
  auto other = job(11, 1);
  other.status = job_status::completed;
  bus.publish(other);
  BOOST_TEST((std::get<sync_job>(*mine->next(0ms)).status == job_status::completed));
}

BOOST_AUTO_TEST_CASE(a_waiting_listener_wakes_on_publish) {
  event_bus bus;
  auto l = bus.subscribe(1);
  std::thread t([&] { bus.publish(job(5, 1)); });
  auto got = l->next(10s);
  t.join();
  BOOST_REQUIRE(got);
  BOOST_TEST(std::get<sync_job>(*got).id == 5);
}

BOOST_AUTO_TEST_CASE(a_listener_that_falls_far_behind_is_closed_not_blocking) {
  event_bus bus;
  auto l = bus.subscribe(1);
  for (int i = 0; i < 1000; ++i)
    bus.publish(job(i, 1));
  BOOST_TEST(l->closed());
}

BOOST_AUTO_TEST_CASE(close_all_wakes_waiters_and_unsubscribe_stops_delivery) {
  event_bus bus;
  auto l = bus.subscribe(1);
  bus.unsubscribe(l);
  BOOST_TEST(bus.listeners() == 0u);
  bus.publish(job(1, 1));
  BOOST_TEST(!l->next(0ms).has_value());
  auto w = bus.subscribe(1);
  std::thread t([&] { bus.close_all(); });
  BOOST_TEST(!w->next(10s).has_value());
  t.join();
  BOOST_TEST(w->closed());
}

BOOST_AUTO_TEST_SUITE_END()
