"""A rate-limit window kept in Redis, so workers on several machines share one budget.

Discogs counts requests per source address (and credential); workers behind one address share
one budget. Each operation is one Lua script run by Redis, so it is atomic across every worker,
and it reads the time with Redis' own `TIME`: the workers' clocks never meet, so clock
differences between machines cannot break the window. The script applies the rules of
`musicagent.ratelimit.window` (expire, discard entries dated beyond the window's end, reserve,
give back the latest, record what the server counts, report).

Layout: one sorted set per budget, `musicagent:ratelimit:<keyed fingerprint>`, scored by send
time, with members `<sequence>:<units>`; the budget (a credential fingerprint or a name shared
on purpose) is filed under an HMAC keyed with a random salt kept in Redis, never in clear. Keys
expire once their window is empty.

When Redis cannot be reached, the store paces with a window in this process (still corrected
from the server's headers); the process warns once per outage (`musicagent.redis_link`, shared
with the cache), tries Redis again every few seconds, and rejoins the shared window as soon as
Redis answers, handing it what the local window learned (the requests the API counts) so the
workers that come back together do not all burst into a window the API already counts as full.
"""

from __future__ import annotations

import secrets
from typing import Any

from musicagent.errors import InvalidParameterError
from musicagent.ratelimit.stores import (
    Clock,
    MemoryRateLimitStore,
    Reservation,
    budget_key,
)
from musicagent.ratelimit.window import CLOCK_TOLERANCE, HELD_STEPS, WindowSnapshot
from musicagent.redis_link import RedisLink, RedisUnavailable

__all__ = ["KEY_PREFIX", "RedisRateLimitStore"]

KEY_PREFIX = "musicagent:ratelimit:"
_SALT_KEY = KEY_PREFIX + "salt"

# KEYS[1]: the window (sorted set), KEYS[2]: its member sequence, KEYS[3]: the salt.
# ARGV: operation, limit, span, clock tolerance, operand (server count or member to release),
# the salt the keys were derived from, the steps of `held` a reservation describes.
# Every number goes back as a string: Redis would truncate a Lua number to an integer.
_SCRIPT = """
local key, sequence = KEYS[1], KEYS[2]
-- Keys derived from a salt the server no longer holds (restarted, flushed, evicted) would
-- leave this worker alone in a window nobody else finds: the caller derives them again.
if redis.call('GET', KEYS[3]) ~= ARGV[6] then return {'resalt'} end
local op = ARGV[1]
local limit, span, tolerance = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local function fmt(value) return string.format('%.6f', value) end

local function keep_alive()
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then
    local ttl = math.ceil((tonumber(last[2]) - now + span) * 1000) + 1000
    if ttl < 1000 then ttl = 1000 end
    redis.call('PEXPIRE', key, ttl)
    redis.call('PEXPIRE', sequence, ttl + math.ceil(span * 1000))
  end
end

if op == 'release' then
  local mine = redis.call('ZSCORE', key, ARGV[5])
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  -- Only the latest reservation goes back: others were scheduled counting it.
  if mine and last[2] and tonumber(mine) == tonumber(last[2]) then
    redis.call('ZREM', key, ARGV[5])
  end
  return {'0', '0', '0'}
end

-- Forget what left the window, then what is dated beyond its end.
redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt(now - span))
local raw = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
local times, units = {}, {}
local count, before = 0, 0
for i = 1, #raw, 2 do
  local at = tonumber(raw[i + 1])
  if at > now + span * math.floor(before / limit) + tolerance then
    redis.call('ZREMRANGEBYRANK', key, (i - 1) / 2, -1)
    break
  end
  local weight = tonumber(string.match(raw[i], ':(%d+)$'))
  count = count + 1
  times[count], units[count] = at, weight
  before = before + weight
end

local function total(until_time)
  local sum = 0
  for i = 1, count do
    if until_time == nil or times[i] <= until_time then sum = sum + units[i] end
  end
  return sum
end
local function earliest()
  local start = now
  if count > 0 and times[count] > start then start = times[count] end
  local counted = 0
  for i = count, 1, -1 do
    counted = counted + units[i]
    if counted >= limit then
      if times[i] + span > start then start = times[i] + span end
      break
    end
  end
  return start
end
local function add(at, weight)
  local member = redis.call('INCR', sequence) .. ':' .. weight
  redis.call('ZADD', key, fmt(at), member)
  return member
end

if op == 'reserve' then
  local slot = earliest()
  local member = add(slot, 1)
  keep_alive()
  -- What of the window surely counts while the request is under way (window.admit): the
  -- entries dated before the slot leave oldest first, the reservation itself last. Each
  -- step's end is rounded down to the microsecond so that rounding never lengthens it.
  local answer = {fmt(slot), fmt(slot - now), member, fmt(now)}
  local before, last = 0, 0
  for i = 1, count do
    if times[i] < slot then before, last = before + units[i], i end
  end
  local steps, remaining = tonumber(ARGV[7]), before + 1
  for i = 1, math.min(last, steps) do
    answer[#answer + 1] = fmt(times[i] + span - 0.000001)
    answer[#answer + 1] = tostring(remaining)
    remaining = remaining - units[i]
  end
  if last < steps then
    answer[#answer + 1] = fmt(slot + span - 0.000001)
    answer[#answer + 1] = '1'
  end
  return answer
elseif op == 'correct' then
  local server_used = tonumber(ARGV[5])
  local sent = total(now)
  if server_used > sent then add(now, server_used - sent) end
  keep_alive()
  return {'0', '0', '0'}
elseif op == 'fill' then
  local all = total(nil)
  if limit > all then add(now, limit - all) end
  keep_alive()
  return {'0', '0', '0'}
end
return {tostring(total(now)), tostring(total(nil)), fmt(earliest() - now)}
"""


class RedisRateLimitStore:
    """The window of one budget kept in Redis and shared by every worker that uses the same budget.

    Args:
        url: the Redis URL (`redis://[:password@]host:port/db`); it may hold a password, so it
            is never shown (`repr` masks it).
        budget: whose window this is: a credential fingerprint (one budget per credential), or
            a name chosen on purpose so that workers with different credentials behind one
            address share one budget. Redis only sees a keyed hash of it.
        link: the connection to use (default: the one this process shares for ``url`` with the
            cache, see `RedisLink.shared`).
    """

    offload = True
    """Calls do network I/O: `RateLimiter.acquire_async` runs them in a worker thread."""

    def __init__(self, url: str, *, budget: str = "default", link: RedisLink | None = None) -> None:
        _import_redis()
        self._link = link if link is not None else RedisLink.shared(url)
        self._link.serves("rate window")
        self._script = self._link.client.register_script(_SCRIPT)
        self._budget = budget
        self._keys: list[str] | None = None
        self._salt = ""
        self._generation = self._link.generation
        self._local = MemoryRateLimitStore()
        # Set while the local window serves: its clock, to read what it learned on rejoining.
        self._local_clock: Clock | None = None
        self._epoch = 0
        self._on_local = False

    @property
    def epoch(self) -> int:
        """Changes whenever the window served changes: Redis lost, Redis back, keys derived
        again (a reservation's `held` promise stands only within one)."""
        return self._epoch

    @property
    def shared(self) -> bool:
        """Whether Redis answers (False while pacing with the local window)."""
        return self._link.up

    def reserve(self, clock: Clock, limit: int, span: float) -> Reservation:
        """Take the next free slot for one request, on Redis' clock."""
        answer = self._run("reserve", clock, limit, span)
        if answer is None:
            local = self._local.reserve(clock, limit, span)
            # The local window's own promise, within this epoch (the outage).
            return Reservation(
                slot=local.slot, wait=local.wait, now=local.now, held=local.held, epoch=self._epoch
            )
        slot, wait, member, now, *steps = answer
        held = tuple(
            (float(until), int(units)) for until, units in zip(steps[::2], steps[1::2], strict=True)
        )
        return Reservation(
            slot=float(slot),
            wait=max(0.0, float(wait)),
            token=member,
            now=float(now),
            held=held,
            store_clock=True,
            epoch=self._epoch,
        )

    def release(self, reservation: Reservation) -> None:
        """Give back a slot whose request was never sent (when nothing queued behind it)."""
        if not reservation.token:
            self._local.release(reservation)
            return
        self._run("release", None, 1, 1.0, reservation.token)

    def correct(self, clock: Clock, limit: int, span: float, server_used: int) -> None:
        """Record that the server counts `server_used` requests in its window."""
        if self._run("correct", clock, limit, span, str(server_used)) is None:
            self._local.correct(clock, limit, span, server_used)

    def fill(self, clock: Clock, limit: int, span: float) -> None:
        """Record a full window (a 429)."""
        if self._run("fill", clock, limit, span) is None:
            self._local.fill(clock, limit, span)

    def snapshot(self, clock: Clock, limit: int, span: float) -> WindowSnapshot:
        """Units used, all units and seconds until the next free slot."""
        answer = self._run("status", clock, limit, span)
        if answer is None:
            return self._local.snapshot(clock, limit, span)
        used, units, next_free_in = answer
        return WindowSnapshot(
            used=int(used), units=int(units), next_free_in=max(0.0, float(next_free_in))
        )

    def close(self) -> None:
        """Close the connections to Redis (a later use opens them again)."""
        self._link.close()

    def __repr__(self) -> str:
        return f"RedisRateLimitStore({self._link.location!r})"

    def _run(
        self, op: str, clock: Clock | None, limit: int, span: float, operand: str = ""
    ) -> list[str] | None:
        """Run the script; None when Redis does not answer and the local window serves."""
        try:
            return self._link.call(lambda client: self._answer(client, op, limit, span, operand))
        except RedisUnavailable:
            if not self._on_local:
                self._on_local = True
                self._epoch += 1
            if clock is not None:
                self._local_clock = clock
            return None

    def _answer(self, client: Any, op: str, limit: int, span: float, operand: str) -> list[str]:
        if self._keys is None or self._generation != self._link.generation:
            self._resolve_keys(client)
        if self._on_local:
            self._on_local = False
            self._epoch += 1
        local_clock = self._local_clock
        if local_clock is not None:
            # Back from the local window: what it counted (our sends, what the API's headers
            # reported, and slots granted but not yet due) goes to the shared window, which
            # may have been lost. Counted as sent now: the safe side.
            units = self._local.snapshot(local_clock, limit, span).units
            self._local_clock = None
            self._local = MemoryRateLimitStore()
            if units:
                self._eval(client, "correct", limit, span, str(min(units, limit)))
        return self._eval(client, op, limit, span, operand)

    def _eval(self, client: Any, op: str, limit: int, span: float, operand: str) -> list[str]:
        for _ in range(2):
            args = [op, limit, repr(span), repr(CLOCK_TOLERANCE), operand, self._salt, HELD_STEPS]
            answer = [
                item.decode() if isinstance(item, bytes) else str(item)
                for item in self._script(keys=self._keys, args=args, client=client)
            ]
            if answer[0] != "resalt":
                return answer
            self._resolve_keys(client)
        raise RedisUnavailable("the rate-limit salt keeps changing")

    def _resolve_keys(self, client: Any) -> None:
        # One salt per Redis, made by whichever worker comes first; SET NX makes it the same
        # for all of them (one MULTI: the salt cannot vanish between the two).
        self._generation = self._link.generation
        # New keys may name another window than the one earlier reservations were made in.
        self._epoch += 1
        pipe = client.pipeline(transaction=True)
        pipe.set(_SALT_KEY, secrets.token_hex(32), nx=True)
        pipe.get(_SALT_KEY)
        _, salt = pipe.execute()
        self._salt = salt.decode() if isinstance(salt, bytes) else str(salt)
        key = KEY_PREFIX + budget_key(bytes.fromhex(self._salt), self._budget)
        self._keys = [key, key + ":sequence", _SALT_KEY]


def _import_redis() -> Any:
    try:
        import redis
    except ImportError:
        raise InvalidParameterError(
            "DISCOGS_RATE_LIMIT_BACKEND=redis needs the redis package: "
            "pip install 'musicagent[redis]'",
            parameter="DISCOGS_RATE_LIMIT_BACKEND",
            allowed=["local", "redis (with the redis package installed)"],
        ) from None
    return redis
