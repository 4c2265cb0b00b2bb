// Other nodes' lease requests at the coordinator, decided when the cluster
// budget's slot comes, not when they arrive (issue 19: fair between the
// cluster's jobs, not between its nodes). Free of CAF and of threads: the
// coordinator adds each request with its promise's id, calls due() when a
// request arrives and at wake_at(), and answers what due() returns.
//
// Why: each worker has one lease request in flight. Answered on arrival,
// requests are served in the order they come, so a worker running one full
// sync got as many slots as one running fifteen (each request names the
// job its node ranks first, but no two requests ever met). Held until the
// next slot is near, the requests of all nodes meet there, and the slot
// goes to the job the rule of fair_share.hpp ranks first among them (and
// against the coordinator's own waiting jobs, inside lend()).
//
// A request is held at most `deadline`: then it is answered "later" (no
// slot; the worker asks again at once), because the worker's and its
// session's requests time out after 5 s, and a timeout would count as a
// lost coordinator. A job that is not ranked first for a while so keeps
// asking, and gets its slot when its count is the fewest: no job starves
// (fair_share.hpp), and no request waits past its deadline.
//
// A request of a node that left meanwhile is still answered in its turn:
// that one slot goes unused (it is not worth tracking requests by node;
// the node's jobs are reclaimed and counted again wherever they run).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "upstream/rate_budget.hpp"

namespace matchsync::upstream {

class lease_queue {
public:
  using clock = local_rate_budget::clock;

  /// A slot is decided `lookahead` before it may start (the answer must
  /// reach the worker first); a request is answered "later" after
  /// `deadline`.
  lease_queue(clock::duration lookahead, clock::duration deadline);

  /// A node's request: `count` slots for `who`, standing for `weight` jobs.
  void add(std::uint64_t id, job_claim who, int weight, std::int32_t count,
           clock::time_point now);

  struct answer {
    std::uint64_t id = 0;
    /// No slot this time: ask again.
    bool later = false;
    local_rate_budget::lent_slots slots;
  };
  /// The requests to answer now: the one the rule ranks first, each time
  /// the budget's next slot is within the lookahead (lent its slots by
  /// `budget.lend`), and those past their deadline ("later"). With an
  /// unlimited budget, every request at once.
  std::vector<answer> due(local_rate_budget& budget, clock::time_point now);

  /// When due() has something to answer next; none when nothing waits.
  std::optional<clock::time_point> wake_at(local_rate_budget& budget) const;

  std::size_t size() const { return waiting_.size(); }

private:
  struct request {
    std::uint64_t id;
    local_rate_budget::remote_claim claim;
    std::int32_t count;
    clock::time_point arrived;
  };
  const clock::duration lookahead_;
  const clock::duration deadline_;
  std::deque<request> waiting_;  // oldest first
};

}  // namespace matchsync::upstream
