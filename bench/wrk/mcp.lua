-- wrk script for MCP sessions (Streamable HTTP): each thread first sends `initialize` until it holds
-- `sessions` session ids (captured from the Mcp-Session-Id response header), then sends small tools/call
-- requests round robin over them. done() prints one JSON line (prefixed "WRK_JSON ") for bench/lib/wrk.ts.
--   wrk -t1 -c64 -d5s -s bench/wrk/mcp.lua http://127.0.0.1:PORT/mcp -- 64 ['Bearer <token>']
-- A second argument is sent as the Authorization header of every request (bench --auth).
local threads = {}
local target = 64
local sessions = {}
local turn = 0
local inits = 0
local non200 = 0
local status404 = 0

local init_body = '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"wrk","version":"1"}}}'
local call_body = '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{}}}'
local base = { ["Content-Type"] = "application/json", ["Accept"] = "application/json, text/event-stream" }
local authorization = nil

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  target = tonumber(args[1]) or 64
  authorization = args[2]
  if authorization then base["Authorization"] = authorization end
end

function request()
  if #sessions < target then
    inits = inits + 1
    return wrk.format("POST", wrk.path, base, init_body)
  end
  turn = turn + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
    ["Mcp-Protocol-Version"] = "2025-11-25",
    ["Mcp-Session-Id"] = sessions[(turn % #sessions) + 1],
  }
  if authorization then headers["Authorization"] = authorization end
  return wrk.format("POST", wrk.path, headers, call_body)
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    if status == 404 then status404 = status404 + 1 end
    return
  end
  local sid = headers["mcp-session-id"] or headers["Mcp-Session-Id"]
  if sid and #sessions < target then
    sessions[#sessions + 1] = sid
  end
end

function done(summary, latency, requests)
  local n200, n404, ninit = 0, 0, 0
  for _, t in ipairs(threads) do
    n200 = n200 + (t:get("non200") or 0)
    n404 = n404 + (t:get("status404") or 0)
    ninit = ninit + (t:get("inits") or 0)
  end
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"non200":%d,"status404":%d,"inits":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, n200, n404, ninit,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
