namespace AspireLlm.Orchestration.Observability;

/// <summary>
/// The series the dashboard reads, each the per-minute sum of an instrument the services export
/// (README, "Observability"), with what its three dimensions hold.
/// </summary>
public static class MetricNames
{
    /// <summary><c>http.server.request.duration</c> of the Api: route group, status class (2xx…), status code; latency histogram.</summary>
    public const string HttpRequests = "http.requests";

    /// <summary><c>aspirellm.llm.attempts</c>: deployment, outcome (ok or the failure kind), alias; latency histogram.</summary>
    public const string ModelAttempts = "llm.attempts";

    /// <summary><c>gen_ai.client.operation.time_to_first_chunk</c>: deployment, "", alias; latency histogram.</summary>
    public const string TimeToFirstChunk = "llm.ttft";

    /// <summary><c>aspirellm.llm.tokens</c>: deployment, token type (input, output), alias; sum of tokens.</summary>
    public const string Tokens = "llm.tokens";

    /// <summary><c>aspirellm.llm.cost</c>: deployment, "", alias; sum of US dollars.</summary>
    public const string Cost = "llm.cost";

    /// <summary><c>aspirellm.llm.retries</c>: deployment, failure kind.</summary>
    public const string Retries = "llm.retries";

    /// <summary><c>aspirellm.llm.fallbacks</c>: deployment, reason, alias.</summary>
    public const string Fallbacks = "llm.fallbacks";

    /// <summary><c>aspirellm.llm.breaker.transitions</c> made by this process (not those learned from others): deployment, new state.</summary>
    public const string BreakerTransitions = "llm.breaker";

    /// <summary><c>aspirellm.llm.cache.requests</c>: cache kind (exact; semantic when it exists), outcome, alias.</summary>
    public const string Cache = "llm.cache";

    /// <summary><c>aspirellm.worker.job.duration</c>: job kind, outcome; latency histogram.</summary>
    public const string JobRuns = "jobs.runs";

    /// <summary><c>aspirellm.worker.job.pickup_latency</c>: job kind; latency histogram.</summary>
    public const string JobPickup = "jobs.pickup";

    /// <summary><c>aspirellm.api.jobs.accepted</c>: job kind.</summary>
    public const string JobsAccepted = "jobs.accepted";
}
