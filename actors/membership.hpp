// Who is in the cluster and what runs where, as the coordinator knows it:
// each node's slots, its last sign of life, and the runs (job, attempt)
// handed to it. Two runs of one job can exist at once (a takeover on the same
// node while the old actor stops), so runs, not job ids, are the keys; the
// current owner of a job is its latest assigned run. Pure: no CAF, no SQL, no
// clock of its own (the time is passed in).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/job_run.hpp"

namespace matchsync {

class membership {
public:
  using clock = std::chrono::steady_clock;

  struct member {
    int slots = 0;
    std::set<job_run> runs;  ///< handed here and not released yet
    /// Of those, the ones parked in a quota wait. They hold no connection
    /// and make no request until the upstream's day starts (SPEC §3), so
    /// up to `slots` of them hold no slot: a job that can work meanwhile
    /// gets it (a user's sync beside scheduled runs parked at their share).
    /// Capped, because a job started into a spent day parks at once and
    /// would free its slot for the next: all pending jobs would start, and
    /// all go on together when the day starts. So a node runs at most
    /// twice its slots, and more than its slots only while some are
    /// parked or just after they go on; its step pool and database pool
    /// still bound the work in flight.
    std::set<job_run> parked;
    int starting = 0;  ///< starts or takeovers in flight
    clock::time_point last_seen{};
    int free() const {
      auto idle = std::min(parked.size(), static_cast<std::size_t>(std::max(slots, 0)));
      return slots - static_cast<int>(runs.size() - idle) - starting;
    }
  };

  /// Adds a node; false when one of that name is in already.
  bool add(const std::string& node, int slots, clock::time_point now);
  /// Removes a node and returns the runs it had (its jobs' current runs
  /// there lose their owner).
  std::vector<job_run> remove(const std::string& node);
  member* find(const std::string& node);
  /// A sign of life: false for a node not in the cluster (dropped).
  bool touch(const std::string& node, clock::time_point now);
  /// Nodes silent for longer than `timeout` at `now`.
  std::vector<std::string> silent(clock::time_point now, clock::duration timeout) const;

  /// The node with the most free slots, or nullptr when all are full.
  member* pick(std::string* name);

  /// `run` now runs on `node` and is its job's current run.
  void assign(const std::string& node, job_run run);
  /// The run ended or stopped; true when it was known. A job's current run
  /// is forgotten only by its own release, never by an older run's.
  bool release(job_run run);
  /// `run` waits for the quota (true) or works (false); true when that
  /// freed a slot. Only a job's current run counts (an older run's report
  /// is ignored), and unknown runs are ignored.
  bool park(job_run run, bool waiting);
  /// The node and run that currently own `job_id`.
  struct owner {
    std::string node;
    job_run run;
  };
  std::optional<owner> owner_of(std::int64_t job_id) const;
  bool running(std::int64_t job_id) const { return current_.count(job_id) > 0; }
  /// The jobs running on `node` (each once, whatever its runs there).
  std::vector<std::int64_t> job_ids(const std::string& node) const;

  const std::map<std::string, member>& nodes() const { return nodes_; }

private:
  std::map<std::string, member> nodes_;
  std::map<std::int64_t, owner> current_;
};

}  // namespace matchsync
