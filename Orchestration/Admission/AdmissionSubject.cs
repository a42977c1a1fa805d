namespace AspireLlm.Orchestration.Admission;

/// <summary>
/// Who a model call is charged to, as admission sees it: the API key, its limits and its tenant's.
/// Hosts put it in <see cref="Pipeline.ModelCallContext.Principal"/>; admission leaves the state of the
/// per-minute limits here for the response's rate-limit headers.
/// </summary>
public sealed class AdmissionSubject(Guid keyId, string tenantId, KeyLimits limits, TenantLimits tenantLimits)
{
    public Guid KeyId { get; } = keyId;

    public string TenantId { get; } = tenantId;

    public KeyLimits Limits { get; } = limits;

    public TenantLimits TenantLimits { get; } = tenantLimits;

    public RateLimitSnapshot? Requests { get; set; }

    public RateLimitSnapshot? Tokens { get; set; }

    /// <summary>
    /// Refuses a model the key may not use. The Api checks this when a job is submitted; the Worker
    /// checks again when it runs, since the key may have been restricted in between.
    /// </summary>
    public void EnsureAllows(string alias)
    {
        if (!Limits.Allows(alias))
        {
            throw new ModelAdmissionException($"This API key may not use the model '{alias}'.", null, AdmissionRefusal.NotAllowed);
        }
    }
}

/// <summary>One per-minute limit after this call was admitted: OpenAI's x-ratelimit-* values.</summary>
public sealed record RateLimitSnapshot(long Limit, long Remaining, TimeSpan Reset);

/// <summary>What one key may do; null means no limit of that kind.</summary>
public sealed record KeyLimits(
    IReadOnlyList<string>? AllowedModels = null,
    int? RequestsPerMinute = null,
    int? TokensPerMinute = null,
    long? DailyTokenBudget = null,
    long? MonthlyTokenBudget = null,
    decimal? DailyCostBudget = null,
    decimal? MonthlyCostBudget = null,
    IReadOnlyList<string>? AllowedTools = null)
{
    public static KeyLimits None { get; } = new();

    public bool Allows(string alias) => AllowedModels is null || AllowedModels.Contains(alias, StringComparer.Ordinal);

    /// <summary>
    /// Whether an agent may call <paramref name="tool"/> for this key: every tool when the key names
    /// none; otherwise a tool named exactly, or one of an MCP server's tools named as <c>{server}_*</c>.
    /// </summary>
    public bool AllowsTool(string tool) =>
        AllowedTools is null || AllowedTools.Any(allowed => Agents.AgentToolNames.Matches(allowed, tool));
}

/// <summary>Rate limits across all of a tenant's keys.</summary>
public sealed record TenantLimits(int? RequestsPerMinute = null, int? TokensPerMinute = null)
{
    public static TenantLimits None { get; } = new();
}
