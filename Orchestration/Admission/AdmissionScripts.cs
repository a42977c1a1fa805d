namespace AspireLlm.Orchestration.Admission;

/// <summary>
/// The Lua scripts that check and take every limit of one call in a single atomic step, so that any
/// number of Api replicas together never admit more than a limit. Written by hand: no library
/// offers check-all-then-take-all across counters and budgets in one round trip.
/// </summary>
internal static class AdmissionScripts
{
    /// <summary>
    /// KEYS: the per-minute window counters, then the budget hashes (fields "spent" and "reserved").
    /// ARGV: the number of counters, then per counter (limit, amount, ttl ms), then the number of
    /// budgets, then per budget (limit, amount, ttl ms).
    /// Returns {1, count after taking, per counter} when admitted, or {0, index of the first refusing
    /// limit (1-based over KEYS), its ms to reset} when not; nothing is taken then.
    /// </summary>
    public const string Admit = """
        local counters = tonumber(ARGV[1])
        local at = 2
        for i = 1, counters do
          local current = tonumber(redis.call('GET', KEYS[i]) or '0')
          if current + tonumber(ARGV[at + 1]) > tonumber(ARGV[at]) then
            return {0, i, redis.call('PTTL', KEYS[i])}
          end
          at = at + 3
        end
        local budgets = tonumber(ARGV[at])
        local budgetsAt = at + 1
        at = budgetsAt
        for j = 1, budgets do
          local key = KEYS[counters + j]
          local used = tonumber(redis.call('HGET', key, 'spent') or '0') + tonumber(redis.call('HGET', key, 'reserved') or '0')
          if used + tonumber(ARGV[at + 1]) > tonumber(ARGV[at]) then
            return {0, counters + j, redis.call('PTTL', key)}
          end
          at = at + 3
        end
        local result = {1}
        at = 2
        for i = 1, counters do
          result[#result + 1] = redis.call('INCRBY', KEYS[i], ARGV[at + 1])
          if redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[at + 2]) end
          at = at + 3
        end
        at = budgetsAt
        for j = 1, budgets do
          local key = KEYS[counters + j]
          redis.call('HINCRBY', key, 'reserved', ARGV[at + 1])
          if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ARGV[at + 2]) end
          at = at + 3
        end
        return result
        """;

    /// <summary>
    /// Corrects what admission took with what the call used. KEYS: the token window counters, then
    /// the budget hashes. ARGV: the number of counters, then per counter the correction (may be
    /// negative), then per budget (reserved to release, spent to add). A window that has already
    /// ended is left alone: its minute is over.
    /// </summary>
    public const string Settle = """
        local counters = tonumber(ARGV[1])
        for i = 1, counters do
          if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('INCRBY', KEYS[i], ARGV[1 + i]) end
        end
        local at = 2 + counters
        for j = counters + 1, #KEYS do
          redis.call('HINCRBY', KEYS[j], 'reserved', -tonumber(ARGV[at]))
          redis.call('HINCRBY', KEYS[j], 'spent', ARGV[at + 1])
          at = at + 2
        end
        return 1
        """;
}
