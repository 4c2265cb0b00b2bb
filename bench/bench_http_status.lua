-- wrk script for GET /sync/status: sends the bearer token of BENCH_TOKEN and
-- prints RESULT lines (bench/run.sh's format) for BENCH_LABEL at the end.
local token = os.getenv("BENCH_TOKEN") or ""
local label = os.getenv("BENCH_LABEL") or "status"
if token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end

-- BENCH_PACE_MS > 0: each connection waits that long (on average) after an
-- answer before its next request, so the offered rate is about
-- connections * 1000 / pace per second instead of as fast as wrk can.
local pace = tonumber(os.getenv("BENCH_PACE_MS") or "0")
if pace > 0 then
  function delay() return math.random(pace - 1, pace + 1) end
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

-- Which answers came: a job or none. Reading bodies costs the client CPU
-- on the same cores, so only on request (BENCH_COUNT=1).
syncing, idle = 0, 0
if os.getenv("BENCH_COUNT") == "1" then
  function response(status, headers, body)
    if body:find('"is_syncing":true', 1, true) then syncing = syncing + 1 else idle = idle + 1 end
  end
end

function done(summary, latency, requests)
  local s = summary.duration / 1e6
  local function out(metric, value, unit)
    io.write(string.format("RESULT http %s_%s %s %s\n", label, metric, value, unit))
  end
  local on, off = 0, 0
  for _, t in ipairs(threads) do on = on + t:get("syncing"); off = off + t:get("idle") end
  out("rps", string.format("%.0f", summary.requests / s), "req/s")
  out("p50", string.format("%.2f", latency:percentile(50) / 1000), "ms")
  out("p90", string.format("%.2f", latency:percentile(90) / 1000), "ms")
  out("p99", string.format("%.2f", latency:percentile(99) / 1000), "ms")
  out("max", string.format("%.2f", latency.max / 1000), "ms")
  out("timeouts", summary.errors.timeout, "requests")
  out("errors", summary.errors.connect + summary.errors.read + summary.errors.write +
      summary.errors.status, "requests")
  if on + off > 0 then
    out("answers_syncing", on, "requests")
    out("answers_idle", off, "requests")
  end
end
