// The join's challenge–response without CAF: proofs, their comparison and
// the nonce book (single use, bound, short-lived, bounded).
#define BOOST_TEST_MODULE join_proof
#include <boost/test/unit_test.hpp>

#include <set>

#include "actors/join_proof.hpp"

using namespace matchsync::join_proof;
using namespace std::chrono_literals;

namespace {
const nonce_book::clock::time_point t0{};
}

BOOST_AUTO_TEST_CASE(proofs_are_hmac_sha256_over_length_prefixed_fields) {
  // Expected values computed apart, with Python's hmac module.
  BOOST_TEST(worker_mac("s3cret", "server-nonce", "client-nonce", "w1") ==
             "9229bef3708177c69662edd37d430fec3bac863caed3891612aefaead39d7e30");
  BOOST_TEST(coordinator_mac("s3cret", "server-nonce", "client-nonce", "w1") ==
             "078b95672a46b091278cafeb3ca7ba9b5f242ded6aa230f9f7032efabf83c720");
}

BOOST_AUTO_TEST_CASE(a_proof_changes_with_every_field_and_the_secret) {
  auto base = worker_mac("s3cret", "sn", "cn", "w1");
  BOOST_TEST(worker_mac("s3cret!", "sn", "cn", "w1") != base);
  BOOST_TEST(worker_mac("s3cret", "sn2", "cn", "w1") != base);
  BOOST_TEST(worker_mac("s3cret", "sn", "cn2", "w1") != base);
  BOOST_TEST(worker_mac("s3cret", "sn", "cn", "w2") != base);
  // Moving a boundary between fields is a different input.
  BOOST_TEST(worker_mac("s3cret", "snc", "n", "w1") != base);
  // The coordinator's proof never passes for the worker's.
  BOOST_TEST(coordinator_mac("s3cret", "sn", "cn", "w1") != base);
}

BOOST_AUTO_TEST_CASE(proof_comparison_needs_the_whole_proof) {
  auto p = worker_mac("s3cret", "sn", "cn", "w1");
  BOOST_TEST(proof_matches(p, p));
  BOOST_TEST(!proof_matches(p, p.substr(0, p.size() - 1)));
  BOOST_TEST(!proof_matches(p, ""));
  auto flipped = p;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  BOOST_TEST(!proof_matches(p, flipped));
}

BOOST_AUTO_TEST_CASE(nonces_are_fresh_random_256_bit_hex) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto n = random_nonce();
    BOOST_TEST(n.size() == 64u);
    BOOST_TEST(n.find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(n);
  }
  BOOST_TEST(seen.size() == 100u);
}

BOOST_AUTO_TEST_CASE(a_nonce_is_taken_once_by_the_peer_and_node_it_was_issued_for) {
  nonce_book book(10s);
  auto n = book.issue("w1", "cn", "peer-a", t0);
  nonce_book::issued got;
  BOOST_TEST(book.take(n, "w1", "peer-a", t0 + 1s, got) == nullptr);
  BOOST_TEST(got.client_nonce == "cn");
  // A replay of the same exchange: refused.
  BOOST_TEST(book.take(n, "w1", "peer-a", t0 + 1s, got) != nullptr);
  BOOST_TEST(book.size() == 0u);
}

BOOST_AUTO_TEST_CASE(a_nonce_from_another_peer_or_for_another_node_is_refused_and_spent) {
  nonce_book book(10s);
  nonce_book::issued got;
  auto n = book.issue("w1", "cn", "peer-a", t0);
  BOOST_TEST(std::string(book.take(n, "w1", "peer-b", t0, got)) == "nonce issued to another peer");
  BOOST_TEST(book.take(n, "w1", "peer-a", t0, got) != nullptr);  // one try only
  auto m = book.issue("w1", "cn", "peer-a", t0);
  BOOST_TEST(std::string(book.take(m, "w2", "peer-a", t0, got)) ==
             "nonce issued for another node name");
  BOOST_TEST(std::string(book.take("never-issued", "w1", "peer-a", t0, got)) ==
             "unknown or used nonce");
}

BOOST_AUTO_TEST_CASE(an_expired_nonce_is_refused) {
  nonce_book book(10s);
  nonce_book::issued got;
  auto n = book.issue("w1", "cn", "peer-a", t0);
  BOOST_TEST(std::string(book.take(n, "w1", "peer-a", t0 + 11s, got)) == "expired nonce");
}

BOOST_AUTO_TEST_CASE(a_flood_of_challenges_keeps_the_book_bounded_dropping_the_oldest) {
  nonce_book book(10s, 8);
  auto first = book.issue("w1", "cn", "peer-a", t0);
  for (int i = 1; i <= 20; ++i)
    book.issue("w1", "cn", "peer-a", t0 + std::chrono::milliseconds(i));
  BOOST_TEST(book.size() == 8u);
  nonce_book::issued got;
  BOOST_TEST(book.take(first, "w1", "peer-a", t0 + 1s, got) != nullptr);
  auto last = book.issue("w1", "cn", "peer-a", t0 + 1s);
  BOOST_TEST(book.take(last, "w1", "peer-a", t0 + 1s, got) == nullptr);
}

BOOST_AUTO_TEST_CASE(expired_nonces_are_dropped_when_new_ones_are_issued) {
  nonce_book book(10s, 100);
  for (int i = 0; i < 5; ++i)
    book.issue("w1", "cn", "peer-a", t0);
  book.issue("w1", "cn", "peer-a", t0 + 20s);
  BOOST_TEST(book.size() == 1u);
}
