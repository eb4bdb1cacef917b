-- The one wrk script of `make bench`; bench/run.py picks what each request is through the
-- environment:
--   BENCH_MODE      get | orders | checkout | webhook
--   BENCH_TOKENS    comma-separated JWT access tokens, used in turn (get uses the first)
--   BENCH_PRODUCTS  comma-separated product ids; orders and checkout buy one line of a random one
--   BENCH_WEBHOOK_FILE  lines "<Stripe-Signature>\t<body>", pre-signed by run.py
--   BENCH_THREADS   wrk's -t, so webhook threads take disjoint lines
-- Every request says X-Forwarded-Proto: https, as the TLS proxy in front of production does.
-- done() prints one line "BENCH_JSON {...}" that run.py reads.

local mode = os.getenv("BENCH_MODE") or "get"
local threads_total = tonumber(os.getenv("BENCH_THREADS") or "1")

local function split(text, sep)
  local out = {}
  for part in string.gmatch(text or "", "([^" .. sep .. "]+)") do
    out[#out + 1] = part
  end
  return out
end

local tokens = split(os.getenv("BENCH_TOKENS"), ",")
local products = split(os.getenv("BENCH_PRODUCTS"), ",")
local address = '{"street":"Jr. Gamarra 1","city":"Lima","state":"Lima",'
  .. '"postal_code":"15018","country":"PE"}'

wrk.headers["X-Forwarded-Proto"] = "https"
if mode == "get" and tokens[1] then
  wrk.headers["Authorization"] = "Bearer " .. tokens[1]
end

-- main state: remember the threads so done() can add up their counters
local all_threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  all_threads[#all_threads + 1] = thread
end

-- thread state
non2xx = 0
settled_steps = 0
local counter = 0
local lines = {}
local state = "order"
local order_id, order_total, payment_id

function init(args)
  math.randomseed(os.time() * 1000 + (id or 0))
  if mode == "webhook" then
    local file = assert(io.open(os.getenv("BENCH_WEBHOOK_FILE"), "r"))
    local index = 0
    for line in file:lines() do
      index = index + 1
      if index % threads_total == (id or 1) - 1 then
        local tab = string.find(line, "\t", 1, true)
        lines[#lines + 1] = { string.sub(line, 1, tab - 1), string.sub(line, tab + 1) }
      end
    end
    file:close()
  end
end

local function fresh_key()
  counter = counter + 1
  return string.format("bench-%d-%d-%d-%d", id or 0, os.time(), counter, math.random(1, 1e9))
end

local function headers_for(token)
  return {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = fresh_key(),
    ["X-Forwarded-Proto"] = "https",
  }
end

local function token()
  -- checkout keeps one user per connection (one connection per thread); orders rotate
  if mode == "checkout" then
    return tokens[((id or 1) - 1) % #tokens + 1]
  end
  return tokens[counter % #tokens + 1]
end

local function order_request()
  local product = products[math.random(1, #products)]
  local body = '{"items":[{"product_id":' .. product .. ',"quantity":1}],'
    .. '"shipping_address":' .. address .. "}"
  return wrk.format("POST", "/api/v1/orders", headers_for(token()), body)
end

if mode ~= "get" then
  function request()
    if mode == "orders" then
      return order_request()
    elseif mode == "webhook" then
      counter = counter + 1
      local entry = lines[(counter - 1) % #lines + 1]
      return wrk.format("POST", "/webhooks/stripe", {
        ["Content-Type"] = "application/json",
        ["Stripe-Signature"] = entry[1],
        ["X-Forwarded-Proto"] = "https",
      }, entry[2])
    end
    -- checkout: order, then payment, then process, chained on this thread's one connection
    if state == "payment" then
      local body = '{"order_id":' .. order_id .. ',"payment_method":"simulated","amount":"'
        .. order_total .. '"}'
      return wrk.format("POST", "/api/v1/payments", headers_for(token()), body)
    elseif state == "process" then
      return wrk.format(
        "POST",
        "/api/v1/payments/" .. payment_id .. "/process",
        headers_for(token()),
        '{"payment_method_id":"tok_success"}'
      )
    end
    return order_request()
  end
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
  if mode ~= "checkout" then
    return
  end
  if state == "order" and status == 201 then
    order_id = string.match(body, '"id":(%d+)')
    order_total = string.match(body, '"total_amount":"([^"]+)"')
    state = (order_id and order_total) and "payment" or "order"
  elseif state == "payment" and status == 201 then
    payment_id = string.match(body, '"id":(%d+)')
    state = payment_id and "process" or "order"
  else
    if state == "process" and status == 202 then
      settled_steps = settled_steps + 1
    end
    state = "order"
  end
end

function done(summary, latency, requests)
  local bad, processed = 0, 0
  for _, thread in ipairs(all_threads) do
    bad = bad + (thread:get("non2xx") or 0)
    processed = processed + (thread:get("settled_steps") or 0)
  end
  local errors = summary.errors
  io.write(
    string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"non2xx":%d,'
        .. '"socket_errors":%d,"processed":%d}\n',
      summary.requests,
      summary.duration,
      math.floor(latency:percentile(50)),
      math.floor(latency:percentile(99)),
      bad,
      errors.connect + errors.read + errors.write + errors.timeout,
      processed
    )
  )
end
