namespace AspireLlm.Orchestration.Admission;

/// <summary>What to do when Redis, which holds the shared counters, cannot be reached; per kind of limit.</summary>
public sealed class AdmissionOptions
{
    public const string SectionName = "Admission";

    public WhenRedisIsDown RateLimits { get; set; } = WhenRedisIsDown.FailOpen;

    public WhenRedisIsDown Budgets { get; set; } = WhenRedisIsDown.FailClosed;
}

public enum WhenRedisIsDown
{
    /// <summary>Refuse the call with 503: nothing can be spent that was not counted.</summary>
    FailClosed,

    /// <summary>Admit the call, counting it with this replica's own limiter (rate limits) or not at all (budgets).</summary>
    FailOpen,
}
