namespace AspireLlm.Orchestration.Resilience;

/// <summary>The deployment's circuit is open: the call was not sent.</summary>
public sealed class BreakerOpenException(string deployment, TimeSpan retryAfter)
    : Exception($"Deployment '{deployment}' is out of rotation (circuit open) for another {retryAfter.TotalSeconds:0.#} s.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}
