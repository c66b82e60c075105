-- wrk script for the polling scenario: every watcher sends back the ETag it
-- last saw (as htmx in a browser does); counts 200 / 304 / other, prints JSON.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  etag, ok, not_modified, other = nil, 0, 0, 0
end

function request()
  if etag then
    return wrk.format(nil, nil, {["If-None-Match"] = etag})
  end
  return wrk.format()
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1
  elseif status == 304 then not_modified = not_modified + 1
  else other = other + 1 end
  etag = headers["ETag"] or headers["etag"] or etag
end

function done(summary, latency, requests)
  local total_ok, total_304, total_other = 0, 0, 0
  for _, t in ipairs(threads) do
    total_ok = total_ok + t:get("ok")
    total_304 = total_304 + t:get("not_modified")
    total_other = total_other + t:get("other")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "ok": %d, "not_modified": %d, "other": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    total_ok, total_304, total_other, e.connect + e.read + e.write + e.timeout))
end
