-- wrk script for benchmarks/fleet.py and tests/fleet: agents' heartbeats at a steady rate.
--
-- wrk -t THREADS -s fleet.lua URL -- AGENTS_FILE SENT_FILE RATE HEARTBEAT_SECONDS THREADS [FLIP_RATIO]
--   AGENTS_FILE: one agent a line: "agent_id credential next_seq link_id[,link_id...]" (1-3 links)
--   SENT_FILE:   written at the end: "agent_id heartbeats_sent" per agent that sent any
--   RATE:        heartbeats per second over all threads (0: as fast as the server answers)
--   HEARTBEAT_SECONDS: heartbeats are sent for this long; after it each connection sends one
--                GET /healthz and idles, so every heartbeat sent has been answered (or timed out)
--                when wrk stops (run wrk with -d at least HEARTBEAT_SECONDS + its --timeout)
--   THREADS:     wrk's -t again (each thread takes every THREADS-th agent)
--   FLIP_RATIO:  share of heartbeats in which one link changes state (default 0.002)
-- Each agent sends with its own credential, its seq rises by one per heartbeat, and its results
-- are those of its own 1-3 links (a TCP probe each: up with small loss and RTTs, or down).

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } cc_timespec;
  int clock_gettime(int clk, cc_timespec *ts);
]]
local ts = ffi.new("cc_timespec")
local function now() -- seconds, wall clock (also the heartbeats' sent_at)
  ffi.C.clock_gettime(0, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local agents_file, rate = args[1], tonumber(args[3])
  sent_file = args[2]
  heartbeat_seconds = tonumber(args[4])
  total_threads = tonumber(args[5])
  flip_ratio = tonumber(args[6] or "0.002")
  agents, sent, statuses = {}, {}, {}
  local i = 0
  for line in io.lines(agents_file) do
    if i % total_threads == index then
      local id, credential, seq, links = line:match("^(%S+) (%S+) (%d+) (%S+)$")
      local ls, ups = {}, {}
      for l in links:gmatch("[^,]+") do table.insert(ls, l); table.insert(ups, true) end
      table.insert(agents, {id = id, auth = "Bearer " .. credential, seq = tonumber(seq) - 1,
                            links = ls, ups = ups, path = "/v1/agents/" .. id .. "/heartbeats"})
    end
    i = i + 1
  end
  next_agent = 1
  interval = (rate > 0) and (total_threads / rate) or 0
  started = now()
  next_slot = started
  -- wrk calls request() once in thread 0 before the run to check its shape, and never sends it:
  -- answer that call with a request that is no heartbeat, so no agent's seq is skipped
  verifying = (index == 0)
  math.randomseed(index * 7919 + 17)
end

function delay()
  local t = now()
  if t - started > heartbeat_seconds then return 1000 * (heartbeat_seconds + 60) end
  if interval == 0 then return 0 end
  local slot = next_slot > t and next_slot or t
  next_slot = slot + interval
  return math.floor((slot - t) * 1000)
end

local function result(link_id, up)
  if up then
    local avg = 0.004 + math.random() * 0.03
    return string.format('{"name":"%s","kind":"tcp","target":"10.0.0.1:443","link_id":"%s","up":true,' ..
      '"sent":3,"received":3,"loss_ratio":0.0,"rtt_min_s":%.5f,"rtt_avg_s":%.5f,"rtt_max_s":%.5f,' ..
      '"rtt_stddev_s":%.5f}', link_id, link_id, avg * 0.8, avg, avg * 1.3, avg * 0.1)
  end
  return string.format('{"name":"%s","kind":"tcp","target":"10.0.0.1:443","link_id":"%s","up":false,' ..
    '"error":"timed out","sent":3,"received":0,"loss_ratio":1.0}', link_id, link_id)
end

function request()
  if verifying then
    verifying = false
    return wrk.format("GET", "/healthz")
  end
  local t = now()
  if t - started > heartbeat_seconds or #agents == 0 then
    return wrk.format("GET", "/healthz")
  end
  local a = agents[next_agent]
  next_agent = next_agent % #agents + 1
  a.seq = a.seq + 1
  sent[a.id] = (sent[a.id] or 0) + 1
  if math.random() < flip_ratio then
    local k = math.random(#a.links)
    a.ups[k] = not a.ups[k]
  end
  local parts = {}
  for k, l in ipairs(a.links) do parts[k] = result(l, a.ups[k]) end
  local body = string.format('{"seq":%d,"sent_at":%.3f,"agent_version":"wrk-fleet","results":[%s]}',
                             a.seq, t, table.concat(parts, ","))
  return wrk.format("POST", a.path, {["Authorization"] = a.auth, ["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local out = io.open(threads[1]:get("sent_file"), "w")
  local codes = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("sent")
    for id, n in pairs(s) do out:write(id, " ", n, "\n") end
    for code, n in pairs(thread:get("statuses")) do codes[code] = (codes[code] or 0) + n end
  end
  out:close()
  local parts = {}
  for code, n in pairs(codes) do table.insert(parts, string.format('"%s":%d', code, n)) end
  io.write(string.format('FLEET-RESULT {"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d},"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,' ..
    '"mean":%.1f},"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean, table.concat(parts, ",")))
end
