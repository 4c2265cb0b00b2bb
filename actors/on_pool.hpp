// Runs blocking work on a pool thread and continues inside the actor that
// asked: the actor never blocks, and its state is touched only by itself.
#pragma once

#include <string>
#include <utility>

#include <caf/all.hpp>

#include "actors/blocking_pool.hpp"
#include "actors/messages.hpp"
#include "core/errors.hpp"

namespace matchsync {

/// A pool result: the value, or the domain error the work threw.
template <class T>
struct attempt {
  T value{};
  errc code = errc::none;
  std::string message;
  bool ok() const { return code == errc::none; }
};

/// Calls `work(session)` on `pool`; then `then(attempt<T>)` runs inside
/// `self` (as a `continuation` message). Exceptions become the attempt's error.
template <class Actor, class Work, class Then>
void on_pool(Actor* self, blocking_pool& pool, Work work, Then then) {
  using T = decltype(work(std::declval<db::session&>()));
  auto me = caf::actor_cast<caf::actor>(self);
  pool.submit([me, work = std::move(work), then = std::move(then)](db::session& s) mutable {
    attempt<T> result;
    try {
      result.value = work(s);
    } catch (const domain_error& e) {
      result.code = e.code();
      result.message = e.what();
    } catch (const std::exception& e) {
      result.code = errc::internal;
      result.message = e.what();
    }
    caf::anon_send(me, continuation{[then = std::move(then),
                                     result = std::move(result)]() mutable {
      then(std::move(result));
    }});
  });
}

}  // namespace matchsync
