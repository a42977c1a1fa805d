using AspireLlm.Api.ApiKeys;

namespace AspireLlm.Api.Admission;

/// <summary>
/// The caller as admission sees it (its key, the key's and the tenant's limits), carried through the
/// pipeline in <see cref="Orchestration.Pipeline.ModelCallContext.Principal"/>. Admission leaves the
/// state of the per-minute limits here for the response's rate-limit headers.
/// </summary>
public sealed class GatewayCaller(ApiKeyRecord key)
{
    public ApiKeyRecord Key { get; } = key;

    public RateLimitSnapshot? Requests { get; set; }

    public RateLimitSnapshot? Tokens { get; set; }
}

/// <summary>One per-minute limit after this call was admitted: OpenAI's x-ratelimit-* values.</summary>
public sealed record RateLimitSnapshot(long Limit, long Remaining, TimeSpan Reset);
