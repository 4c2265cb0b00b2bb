// Which waiting job the upstream budget hands its next slot to (SPEC §2,
// issue 19). Two groups: jobs declared small (incrementals) go ahead for
// their first `head_start` requests, in the order their requests came; the
// others take the slot when no small job waits, and at least one slot in
// every `ahead_run + 1` while small ones do. Among the others: the fewest
// grants in the last five minutes (per job it stands for), ties going to the
// one waiting longest. Pure: times are passed in; no locks, no threads.
//
// Why a declared head start and not only the five-minute count: ten seconds
// after 15 full syncs started at 60/min, each has had less than one grant,
// so by counts alone an incremental arriving then is their equal and gets
// one slot in 16 (100.7 s for 6 requests). Nothing but a declaration tells
// it from them that early. Why five minutes and not one for the others: 15
// full syncs each get about 4 grants a minute, so an incremental no longer
// ahead (it has had `head_start`) would be level with them after 4 more.
//
// Why no job starves: a small job is ahead only for `head_start` grants,
// and among the ahead its oldest request waits only behind older ones; the
// others get a slot in every `ahead_run + 1` however many small jobs come,
// and among them a job not granted for five minutes counts 0, the fewest
// there is, and then only jobs counting 0 that waited longer go before it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

namespace matchsync::upstream {

using fair_clock = std::chrono::steady_clock;

/// How far back grants count.
constexpr fair_clock::duration fair_window = std::chrono::minutes(5);

/// Grants a job declared small takes ahead of the others: a list page or
/// two and the details of ~30 new matches, an incremental's usual size.
constexpr int head_start = 32;

/// While others wait, at most this many slots in a row go ahead: whatever
/// number of small jobs arrives, the others keep a quarter of the budget.
constexpr int ahead_run = 3;

/// Who asks for a slot: the job (its id) and whether it declares itself
/// small (an incremental). Implicit from an id: a job not declared small.
struct job_claim {
  job_claim(std::uint64_t id = 0, bool is_small = false) : job(id), small(is_small) {}
  std::uint64_t job;
  bool small;
};

/// One job waiting for a slot, as the rule sees it.
struct claimant {
  std::uint64_t job = 0;
  /// Grants in the window.
  int recent = 0;
  /// Jobs it stands for (the coordinator lending to other nodes' jobs); >= 1.
  int weight = 1;
  /// When its oldest waiting request arrived, as an arrival number: smaller
  /// waited longer (numbers, so that a manual clock's equal times still
  /// order).
  std::uint64_t waiting_since = 0;
  /// Declared small and still within its head start (is_ahead).
  bool ahead = false;
};

/// Whether a job declared `small` with `granted` grants so far goes ahead.
inline bool is_ahead(bool small, int granted) { return small && granted < head_start; }

/// The index of the claimant the next slot goes to by counts alone (no
/// head starts); `waiting` is not empty.
std::size_t fairest(const std::vector<claimant>& waiting);

/// The whole rule, head starts included: it keeps how many slots in a row
/// went ahead while others waited.
class fair_rule {
public:
  /// The index of the claimant the next slot goes to (the caller grants it
  /// that slot); `waiting` is not empty.
  std::size_t pick(const std::vector<claimant>& waiting);
  /// The one pick() would take now, nothing granted (whom to ask a lease for).
  std::size_t next(const std::vector<claimant>& waiting) const;

private:
  int run_ = 0;
};

class grant_log;

/// One claimant per job among `waiting` (arrival number -> request with a
/// `who` job_claim, in arrival order): its oldest request that `open` says
/// still waits for a slot, counted by `log`; `oldest` gets those requests.
/// The budgets' waiting lists, as the rule sees them.
template <class Map, class Open>
std::vector<claimant> claimants_of(Map& waiting, grant_log& log, fair_clock::time_point now,
                                   std::vector<typename Map::iterator>& oldest, Open open);

/// The grants each job had in the window, and since it was first seen.
class grant_log {
public:
  explicit grant_log(fair_clock::duration window = fair_window) : window_(window) {}

  /// A grant to `job` at `at` (times come in order, slots in the future
  /// included: they are promised).
  void record(std::uint64_t job, fair_clock::time_point at);

  /// `job`'s grants after `now - window`.
  int recent(std::uint64_t job, fair_clock::time_point now);

  /// `job`'s grants since its first, while it had one in every window (a
  /// job idle for a whole window is forgotten and starts again at 0).
  int total(std::uint64_t job, fair_clock::time_point now);

  /// Both at once (one look-up: the budgets ask at every slot for every
  /// waiting job).
  struct job_counts {
    int recent = 0;
    int total = 0;
  };
  job_counts counts(std::uint64_t job, fair_clock::time_point now);

  /// Jobs with a grant in the window (those with none are forgotten now and
  /// then, so finished jobs leave nothing behind).
  std::size_t jobs() const { return grants_.size(); }

private:
  struct entry {
    std::deque<fair_clock::time_point> times;
    int total = 0;
  };
  // `job`'s entry with the times before the window dropped; nullptr when
  // none is left (then forgotten).
  entry* current(std::uint64_t job, fair_clock::time_point now);
  void forget_idle(fair_clock::time_point now);

  fair_clock::duration window_;
  std::unordered_map<std::uint64_t, entry> grants_;
  std::size_t records_ = 0;
};

template <class Map, class Open>
std::vector<claimant> claimants_of(Map& waiting, grant_log& log, fair_clock::time_point now,
                                   std::vector<typename Map::iterator>& oldest, Open open) {
  std::vector<claimant> jobs;
  std::unordered_map<std::uint64_t, std::size_t> index;
  for (auto it = waiting.begin(); it != waiting.end(); ++it) {
    if (!open(it->second))
      continue;
    const job_claim& who = it->second.who;
    if (index.emplace(who.job, jobs.size()).second) {
      auto counted = log.counts(who.job, now);
      jobs.push_back(claimant{who.job, counted.recent, 1, it->first,
                              is_ahead(who.small, counted.total)});
      oldest.push_back(it);
    }
  }
  return jobs;
}

}  // namespace matchsync::upstream
