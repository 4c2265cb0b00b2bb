-- wrk script, one connection: POST /sync/trigger, then POST /sync/cancel/{id}
-- of the job it answered, over and over, for one user (BENCH_TOKEN). Prints
-- RESULT lines: cycles per second, the latency of both requests together,
-- and how the cancels found their job (pending or already running).
local token = os.getenv("BENCH_TOKEN") or ""
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"

local threads = {}
function setup(thread) table.insert(threads, thread) end

job_id = nil
cycles, failures, cancelled_pending, cancelled_running = 0, 0, 0, 0

function request()
  if job_id == nil then
    return wrk.format("POST", "/sync/trigger", nil, "")
  end
  return wrk.format("POST", "/sync/cancel/" .. job_id, nil, "")
end

function response(status, headers, body)
  if job_id == nil then
    if status == 201 then
      job_id = body:match('"id":(%d+)')
    else
      failures = failures + 1
    end
    return
  end
  if status == 200 and body:find('"status":"cancelled"', 1, true) then
    cycles = cycles + 1
    if body:find('"started_at":null', 1, true) then
      cancelled_pending = cancelled_pending + 1
    else
      cancelled_running = cancelled_running + 1
    end
  else
    failures = failures + 1
  end
  job_id = nil
end

function done(summary, latency, requests)
  local s = summary.duration / 1e6
  local c, f, p, r = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("cycles"); f = f + t:get("failures")
    p = p + t:get("cancelled_pending"); r = r + t:get("cancelled_running")
  end
  local function out(metric, value, unit)
    io.write(string.format("RESULT http %s %s %s\n", metric, value, unit))
  end
  out("cycles_per_s", string.format("%.1f", c / s), "cycles/s")
  out("cycle_requests_p50", string.format("%.2f", latency:percentile(50) / 1000), "ms")
  out("cycle_requests_p99", string.format("%.2f", latency:percentile(99) / 1000), "ms")
  out("cycle_requests_max", string.format("%.2f", latency.max / 1000), "ms")
  out("cycles_cancelled_pending", p, "cycles")
  out("cycles_cancelled_running", r, "cycles")
  out("cycle_failures", f + summary.errors.timeout + summary.errors.status, "requests")
end
