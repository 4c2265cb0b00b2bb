#define BOOST_TEST_MODULE event_bus
#include <boost/test/unit_test.hpp>

#include <thread>

#include "actors/event_bus.hpp"
#include "test/support/process.hpp"

using namespace matchsync;
using namespace std::chrono_literals;

namespace {
sync_job job(std::int64_t id, std::int64_t user) {
  sync_job j;
  j.id = id;
  j.user_id = user;
  return j;
}

// Runs `l->next(timeout)` on a thread of its own and returns once that
// thread waits inside it: the wake-up then comes from what the test does
// next, not from an event queued before the wait began.
struct waiter {
  waiter(std::shared_ptr<job_listener> l, std::chrono::milliseconds timeout)
    : thread(test::start_blocked([this, l, timeout] {
        auto t0 = std::chrono::steady_clock::now();
        result = l->next(timeout);
        took = std::chrono::steady_clock::now() - t0;
      })) {}
  std::optional<bus_event> get() {
    thread.join();
    return result;
  }
  std::optional<bus_event> result;
  std::chrono::steady_clock::duration took{};
  std::thread thread;
};
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
  waiter w(l, 60s);  // already waiting, on an empty queue
  bus.publish(job(5, 1));
  auto got = w.get();
  BOOST_REQUIRE(got);
  BOOST_TEST(std::get<sync_job>(*got).id == 5);
  // Woken by the publish, not found when its own timeout ran out.
  BOOST_TEST((w.took < 60s));
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
  auto listener = bus.subscribe(1);
  waiter w(listener, 60s);
  bus.close_all();
  BOOST_TEST(!w.get().has_value());
  BOOST_TEST((w.took < 60s));
  BOOST_TEST(listener->closed());
}

BOOST_AUTO_TEST_SUITE_END()
