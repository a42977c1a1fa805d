using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.Pipeline;

/// <summary>
/// What the pipeline needs to know about a call besides the request itself (whose tenant it is,
/// when it must be done) and what it reports back (usage, cost, the deployment that answered,
/// whether the cache did). It travels in <see cref="ChatOptions.AdditionalProperties"/> under a
/// reserved key, which the cache key skips and which never reaches a provider.
/// </summary>
public sealed class ModelCallContext
{
    public const string PropertyKey = "aspirellm.call";

    /// <summary>In a response's <see cref="ChatResponse.AdditionalProperties"/>: <c>hit</c>, <c>stale</c> or <c>semantic_hit</c> when a cache answered.</summary>
    public const string ResponseCacheProperty = "aspirellm.cache";

    private readonly Lock _gate = new();
    private readonly List<string> _fallbacks = [];

    public ModelCallContext(string tenant, DateTimeOffset? deadline = null, object? principal = null)
    {
        Tenant = tenant;
        Deadline = deadline;
        Principal = principal;
    }

    /// <summary>
    /// Who is calling, as the host knows it (the Api puts the caller's key and limits here), handed
    /// to <see cref="Admission.IModelAdmission"/> untouched.
    /// </summary>
    public object? Principal { get; }

    /// <summary>Cache entries and admission counters are scoped to it; never shared across tenants.</summary>
    public string Tenant { get; }

    /// <summary>The caller's total deadline, retries and fallbacks included; the configured default when null.</summary>
    public DateTimeOffset? Deadline { get; }

    public long InputTokens { get; private set; }

    public long OutputTokens { get; private set; }

    /// <summary>US dollars, summed over every provider call this call made (a repair retry is a second call).</summary>
    public decimal Cost { get; private set; }

    /// <summary>True when some usage was estimated because the call was cut short.</summary>
    public bool UsageIsPartial { get; private set; }

    /// <summary>The deployment that produced the answer, or null when none did.</summary>
    public string? Deployment { get; internal set; }

    public CacheOutcome Cache { get; internal set; } = CacheOutcome.Bypassed;

    /// <summary>
    /// What the caches did, as the <c>x-cache-status</c> header says it: <c>HIT</c> (the exact cache,
    /// an expired entry served by <see cref="ModelAliasOptions.FallbackToCache"/> included),
    /// <c>SEMANTIC_HIT</c>, <c>MISS</c>, or <c>BYPASS</c> (the request was not eligible).
    /// </summary>
    public string CacheStatus => Cache switch
    {
        CacheOutcome.Hit or CacheOutcome.Stale => "HIT",
        CacheOutcome.SemanticHit => "SEMANTIC_HIT",
        CacheOutcome.Miss => "MISS",
        _ => "BYPASS",
    };

    /// <summary>"deployment: reason" for every deployment that was skipped or failed before the answer.</summary>
    public IReadOnlyList<string> Fallbacks
    {
        get
        {
            lock (_gate)
            {
                return [.. _fallbacks];
            }
        }
    }

    /// <summary>
    /// The prompt's token count, counted once per request and encoding: admission and the context
    /// window check both need it, and tokenising a long prompt is the costliest thing the pipeline
    /// does itself. Keyed by the very message list and options, so a repair call's new prompt is
    /// counted anew. Counting stops past <paramref name="limit"/> (the alias's largest context window):
    /// a prompt that long fits no deployment, and a huge one costs no more than that much counting.
    /// </summary>
    internal int PromptTokens(Tokens.TokenCounter counter, IReadOnlyList<ChatMessage> messages, ChatOptions options, Tokens.TokenEncoding encoding, int limit)
    {
        if (_counted is { } last && ReferenceEquals(last.Messages, messages) && ReferenceEquals(last.Options, options) && last.Encoding == encoding
            && last.Limit == limit)
        {
            return last.Tokens;
        }

        var tokens = counter.CountRequest(messages, options, encoding, limit, scope: Tenant);
        _counted = (messages, options, encoding, limit, tokens);
        return tokens;
    }

    private (IReadOnlyList<ChatMessage> Messages, ChatOptions Options, Tokens.TokenEncoding Encoding, int Limit, int Tokens)? _counted;

    internal void AddUsage(long inputTokens, long outputTokens, decimal cost, bool partial)
    {
        lock (_gate)
        {
            InputTokens += inputTokens;
            OutputTokens += outputTokens;
            Cost += cost;
            UsageIsPartial |= partial;
        }
    }

    internal void AddFallback(string deployment, string reason)
    {
        lock (_gate)
        {
            _fallbacks.Add($"{deployment}: {reason}");
        }
    }

    /// <summary>The context carried by <paramref name="options"/>, if any.</summary>
    public static ModelCallContext? Find(ChatOptions? options) =>
        options?.AdditionalProperties?.TryGetValue(PropertyKey, out var value) == true ? value as ModelCallContext : null;

    /// <summary>
    /// The options to send down the pipeline: a copy of <paramref name="options"/> that carries a
    /// context, so the caller's own options object is never changed.
    /// </summary>
    internal static (ChatOptions Options, ModelCallContext Context) Ensure(ChatOptions? options)
    {
        if (Find(options) is { } existing)
        {
            return (options!, existing);
        }

        var context = new ModelCallContext(tenant: "");
        var copy = options?.Clone() ?? new ChatOptions();
        (copy.AdditionalProperties ??= [])[PropertyKey] = context;
        return (copy, context);
    }
}

public enum CacheOutcome
{
    /// <summary>The request was not eligible (non-deterministic, or the alias does not cache).</summary>
    Bypassed,
    Hit,
    Miss,

    /// <summary>Every deployment failed and an expired entry answered instead.</summary>
    Stale,

    /// <summary>The semantic cache answered with the stored answer to an equivalent question.</summary>
    SemanticHit,
}

public static class ModelCallOptionsExtensions
{
    /// <summary>Attaches <paramref name="context"/> to these options (and returns them, for chaining).</summary>
    public static ChatOptions WithCallContext(this ChatOptions options, ModelCallContext context)
    {
        (options.AdditionalProperties ??= [])[ModelCallContext.PropertyKey] = context;
        return options;
    }
}
