-- SPDX-License-Identifier: GPL-3.0-or-later
-- wrk script for bench-service --wrk: 1-fen payments over keep-alive HTTPS,
-- each with its own Idempotency-Key, a top-up every 20th request. The tills'
-- tokens and the cards come from the file named by $CT_WRK_CONF.

local conf = dofile(os.getenv("CT_WRK_CONF"))
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  token = conf.tokens[(id - 1) % #conf.tokens + 1]
  n = 0
end

function request()
  n = n + 1
  local card = conf.cards[(id * 7919 + n) % #conf.cards + 1]
  local kind, body = "payments", '{"amount":1,"operator":"bench"}'
  if n % 20 == 0 then
    kind, body = "topups", '{"package_id":"p200","operator":"bench"}'
  end
  return wrk.format("POST", "/v1/cards/" .. card .. "/" .. kind, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "wrk-" .. conf.run .. "-" .. id .. "-" .. n,
  }, body)
end
