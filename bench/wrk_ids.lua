-- wrk script: spreads requests over many ids read from IDS_FILE and prints
-- throughput and latency percentiles as one JSON line at the end.
--   METHOD=PATCH PATH_PREFIX=/code-sessions/ IDS_FILE=... wrk -s wrk_ids.lua URL
local ids = {}
local method = os.getenv("METHOD") or "GET"
local prefix = os.getenv("PATH_PREFIX")
local suffix = os.getenv("PATH_SUFFIX") or ""
local counter = 0

for line in io.lines(os.getenv("IDS_FILE")) do
  ids[#ids + 1] = line
end

function setup(thread)
  thread:set("offset", math.random(1, #ids))
end

function init(args)
  counter = offset or 1
end

local headers = { ["Content-Type"] = "application/json" }

request = function()
  counter = counter + 1
  local id = ids[(counter % #ids) + 1]
  local body = nil
  if method == "PATCH" then
    body = '{"source_code":"print(' .. counter .. ')\\n"}'
  end
  return wrk.format(method, prefix .. id .. suffix, headers, body)
end

done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
               + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"errors":%d,"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f}\n',
    summary.requests, summary.duration / 1e6, errors,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3))
end
