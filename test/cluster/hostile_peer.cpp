// A hostile peer of the cluster port, for cluster_trust_pgtest only: it
// connects to what `serve` publishes and tries, one by one, everything a
// stranger (and, given --secret, a joined but rogue node) could send. One
// line per attempt on stdout: `RESULT <name> refused|accepted|timeout`.
//
//   hostile_peer --port P [--secret S --job ID --user UID]
//
// Without joining: shutdown, trigger, cancel, progress, finished, released,
// budget; a join with a wrong proof. With the secret (an insider): joins
// with a null agent, with the gatekeeper's and the session's own handles,
// one real join (0 slots: it is never given a job), then a replay of that
// recorded exchange and of its proof over a fresh challenge (the secret
// forgotten); then, through the session it got, the messages a joined node
// must not send: trigger, cancel, shutdown, run, and progress / finished /
// released / jobwait of job ID (not its own) and budget.
#include <iostream>
#include <map>
#include <string>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/join_proof.hpp"
#include "actors/messages.hpp"

using namespace matchsync;

namespace {

std::map<std::string, std::string> parse(int argc, char** argv) {
  std::map<std::string, std::string> out;
  for (int i = 1; i + 1 < argc; i += 2)
    out[argv[i]] = argv[i + 1];
  return out;
}

void report(const std::string& name, const std::string& outcome) {
  std::cout << "RESULT " << name << " " << outcome << std::endl;
}

std::string outcome_of(const caf::error& e) {
  return e == caf::sec::request_timeout ? "timeout" : "refused";
}

struct peer {
  caf::actor_system& sys;
  caf::scoped_actor self;
  std::chrono::seconds timeout{3};

  explicit peer(caf::actor_system& s) : sys(s), self(s) {}

  // A request whose success answer is empty (void handlers).
  void ask_void(const std::string& name, const caf::actor& to, const caf::message& msg) {
    self->request(to, timeout, msg)
      .receive([&] { report(name, "accepted"); },
               [&](caf::error& e) { report(name, outcome_of(e)); });
  }

  void ask_job(const std::string& name, const caf::actor& to, const caf::message& msg) {
    self->request(to, timeout, msg)
      .receive([&](sync_job&) { report(name, "accepted"); },
               [&](caf::error& e) { report(name, outcome_of(e)); });
  }

  void ask_budget(const std::string& name, const caf::actor& to, const caf::message& msg) {
    self->request(to, timeout, msg)
      .receive([&](std::vector<std::int64_t>&, std::int64_t) { report(name, "accepted"); },
               [&](caf::error& e) { report(name, outcome_of(e)); });
  }

  // Step 1 of a join: (server nonce, coordinator proof), empty when refused.
  std::pair<std::string, std::string> challenge(const caf::actor& gk, const std::string& node,
                                                const std::string& client_nonce) {
    std::pair<std::string, std::string> out;
    self->request(gk, timeout, join_atom::value, node, client_nonce)
      .receive([&](std::string& n, std::string& p) { out = {n, p}; },
               [&](caf::error&) {});
    return out;
  }

  // Step 2; the session handle and its token when admitted.
  std::pair<caf::actor, std::string> answer(const std::string& name, const caf::actor& gk,
                                            const std::string& nonce, const std::string& mac,
                                            const node_info& info, const caf::actor& agent) {
    std::pair<caf::actor, std::string> session;
    self->request(gk, timeout, join_atom::value, nonce, mac, info, agent)
      .receive(
        [&](caf::actor& s, std::string& token) {
          session = {s, token};
          report(name, "accepted");
        },
        [&](caf::error& e) { report(name, outcome_of(e)); });
    return session;
  }
};

sync_job forged(std::int64_t id, std::int64_t user, job_status status) {
  sync_job j;
  j.id = id;
  j.user_id = user;
  j.account_id = 999;
  j.status = status;
  j.processed_matches = 4242;
  j.total_matches = 4242;
  j.node = "hostile";
  j.attempt = 1;
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse(argc, argv);
  if (!args.count("--port")) {
    std::cerr << "usage: hostile_peer --port P [--secret S --job ID --user UID]\n";
    return 64;
  }
  auto port = static_cast<std::uint16_t>(std::stoi(args["--port"]));
  auto secret = args.count("--secret") ? args["--secret"] : "";
  std::int64_t job = args.count("--job") ? std::stoll(args["--job"]) : 1;
  std::int64_t user = args.count("--user") ? std::stoll(args["--user"]) : 1;

  caf::actor_system sys(actor_config());
  auto target = sys.middleman().remote_actor("127.0.0.1", port);
  if (!target) {
    std::cerr << "cannot connect: " << sys.render(target.error()) << std::endl;
    return 3;
  }
  auto gk = *target;
  peer p(sys);

  // 1. A stranger, without joining.
  p.ask_void("shutdown", gk, caf::make_message(shutdown_atom::value));
  p.ask_job("trigger", gk, caf::make_message(trigger_atom::value, user, std::int64_t{999},
                                             job_type::full_sync));
  p.ask_job("cancel", gk, caf::make_message(cancel_atom::value, user, job));
  p.ask_void("progress", gk,
             caf::make_message(progress_atom::value, forged(job, user, job_status::running)));
  p.ask_void("finished", gk,
             caf::make_message(finished_atom::value, forged(job, user, job_status::completed)));
  p.ask_void("released", gk, caf::make_message(released_atom::value, job, std::int32_t{1}));
  p.ask_budget("budget", gk, caf::make_message(budget_atom::value, std::int32_t{16}));

  node_info info;
  info.node = "hostile";
  info.host = "hostile";
  info.slots = 0;  // never given a job
  info.local = true;  // a claim the gatekeeper must ignore
  caf::actor null_agent;
  // The unused argument: CAF 0.17.6 spawns a function taking nothing beyond
  // `self` through a null shared_ptr (UBSan: reference binding to null).
  auto dummy_agent = sys.spawn(
    [](caf::event_based_actor* self, int) -> caf::behavior {
      self->set_default_handler(caf::drop);
      return {[](tick_atom) {}};
    },
    0);

  // 2. A join with a guessed proof.
  {
    auto cn = join_proof::random_nonce();
    auto ch = p.challenge(gk, info.node, cn);
    p.answer("join_wrong_secret", gk, ch.first,
             join_proof::worker_mac("guess", ch.first, cn, info.node), info, dummy_agent);
  }
  if (secret.empty()) {
    std::cout << "DONE" << std::endl;
    return 0;
  }

  // 3. An insider: right proofs, wrong agents.
  auto join_with = [&](const std::string& name, const caf::actor& agent) {
    auto cn = join_proof::random_nonce();
    auto ch = p.challenge(gk, info.node, cn);
    return p.answer(name, gk, ch.first, join_proof::worker_mac(secret, ch.first, cn, info.node),
                    info, agent);
  };
  join_with("join_null_agent", null_agent);
  join_with("join_gatekeeper_as_agent", gk);

  // 4. A real join, recorded, then replayed without the secret.
  auto cn = join_proof::random_nonce();
  auto ch = p.challenge(gk, info.node, cn);
  auto mac = join_proof::worker_mac(secret, ch.first, cn, info.node);
  std::cout << "RECORDED " << ch.first << " " << mac << std::endl;
  auto [session, token] = p.answer("real_join", gk, ch.first, mac, info, dummy_agent);
  p.answer("join_replayed", gk, ch.first, mac, info, dummy_agent);
  info.node = "hostile2";  // the name "hostile" is taken now
  auto ch2 = p.challenge(gk, info.node, cn);
  p.answer("join_replayed_proof_on_fresh_nonce", gk, ch2.first, mac, info, dummy_agent);
  if (!session) {
    std::cout << "DONE" << std::endl;
    return 0;
  }
  join_with("join_session_as_agent", session);

  // 5. A joined node speaking out of turn, through its own session (with
  // its token, so that the checks behind it are reached).
  p.ask_job("session_trigger", session, caf::make_message(trigger_atom::value, user,
                                                          std::int64_t{999}, job_type::full_sync));
  p.ask_job("session_cancel", session, caf::make_message(cancel_atom::value, user, job));
  p.ask_job("session_cancel_as_coordinator", session, caf::make_message(cancel_atom::value, job, std::int32_t{1}));
  p.ask_void("session_shutdown", session, caf::make_message(shutdown_atom::value));
  p.ask_void("session_run", session,
             caf::make_message(run_atom::value, forged(job, user, job_status::running)));
  p.ask_void("session_progress_without_token", session,
             caf::make_message(progress_atom::value, forged(job, user, job_status::running)));
  p.ask_void("session_progress_wrong_token", session,
             caf::make_message(join_proof::random_nonce(), progress_atom::value,
                               forged(job, user, job_status::running)));
  p.ask_void("session_progress", session,
             caf::make_message(token, progress_atom::value,
                               forged(job, user, job_status::running)));
  p.ask_void("session_finished", session,
             caf::make_message(token, finished_atom::value,
                               forged(job, user, job_status::completed)));
  p.ask_void("session_released", session, caf::make_message(token, released_atom::value, job, std::int32_t{1}));
  p.ask_void("session_jobwait", session,
             caf::make_message(token, job_wait_atom::value, user, job,
                               std::string("rate_limited"), std::int64_t{60000},
                               std::int32_t{1}));
  p.ask_budget("session_budget", session,
               caf::make_message(token, budget_atom::value, std::int32_t{2}));
  // A lease for a job this node was never handed (to pass others as small).
  p.ask_budget("session_budget_for_job", session,
               caf::make_message(token, budget_atom::value, std::int32_t{2}, job));
  // A spent minute from a node that runs nothing (to stall the cluster).
  p.ask_void("session_hold", session, caf::make_message(token, hold_atom::value));
  std::cout << "DONE" << std::endl;
  caf::anon_send_exit(dummy_agent, caf::exit_reason::user_shutdown);
  return 0;
}
