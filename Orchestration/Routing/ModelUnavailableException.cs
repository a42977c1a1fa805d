namespace AspireLlm.Orchestration.Routing;

/// <summary>
/// No deployment of the alias could answer in time: every circuit was open, or every deployment
/// failed after its retries, or the deadline ran out. Carries when to try again.
/// </summary>
public sealed class ModelUnavailableException(string alias, IReadOnlyList<string> attempts, TimeSpan retryAfter, string? reason = null)
    : Exception($"Model '{alias}' is unavailable: {reason ?? "no deployment could answer"}"
        + (attempts.Count == 0 ? "" : $" ({string.Join("; ", attempts)})") + $". Retry after {Math.Ceiling(retryAfter.TotalSeconds)} s.")
{
    public string Alias { get; } = alias;

    /// <summary>"deployment: reason" for each deployment that was tried or skipped.</summary>
    public IReadOnlyList<string> Attempts { get; } = attempts;

    public TimeSpan RetryAfter { get; } = retryAfter;

    /// <summary>What a client may be told: no deployment names, which are this deployment's own business.</summary>
    public string PublicMessage { get; } =
        $"Model '{alias}' is unavailable right now ({reason ?? "no deployment could answer"}). Retry after {Math.Ceiling(retryAfter.TotalSeconds)} s.";
}

/// <summary>The prompt (plus the requested output) does not fit the context window of any deployment of the alias.</summary>
public sealed class PromptTooLargeException(string alias, int promptTokens, int largestContextWindow)
    : Exception(promptTokens > largestContextWindow
        // Counting stopped there (TokenCounter's limit): the full count is not known, nor needed.
        ? $"The prompt has more than {largestContextWindow} tokens, more than model '{alias}' accepts ({largestContextWindow} tokens including the requested output)."
        : $"The prompt has about {promptTokens} tokens, more than model '{alias}' accepts ({largestContextWindow} tokens including the requested output).")
{
    public string Alias { get; } = alias;

    public int PromptTokens { get; } = promptTokens;

    public int LargestContextWindow { get; } = largestContextWindow;
}

/// <summary>
/// A stream failed after chunks had reached the caller, so it could not be moved to another
/// deployment. Raised instead of ending the stream quietly, so the caller never mistakes a cut-off
/// answer for a whole one.
/// </summary>
public sealed class StreamInterruptedException(string alias, string deployment, string reason, Exception? inner = null)
    : Exception($"The answer from model '{alias}' was interrupted: {reason}", inner)
{
    public string Alias { get; } = alias;

    public string Deployment { get; } = deployment;
}
