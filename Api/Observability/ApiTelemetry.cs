using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AspireLlm.Api.Observability;

/// <summary>
/// The Api's own activity source and meter (<c>AspireLlm.Api</c>; ServiceDefaults exports every
/// <c>AspireLlm.*</c>): the span that accepts a job, whose context the job row carries to the Worker,
/// the span of each agent session frame, and <c>aspirellm.api.*</c> counters.
/// </summary>
public sealed class ApiTelemetry : IDisposable
{
    public const string SourceName = "AspireLlm.Api";

    public static readonly ActivitySource Source = new(SourceName);

    private readonly Meter _meter;
    private readonly Counter<long> _jobsAccepted;
    private readonly Counter<long> _usageRows;

    public ApiTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(SourceName);
        _jobsAccepted = _meter.CreateCounter<long>("aspirellm.api.jobs.accepted", "{job}", "Jobs accepted (202), by kind.");
        _usageRows = _meter.CreateCounter<long>("aspirellm.api.usage.ledger_rows", "{row}", "Usage ledger rows written for gateway calls (one per key, alias and deployment per minute).");
    }

    /// <summary>Starts the span around a job's acceptance; its context is what the job row stores.</summary>
    public static Activity? StartAccept(Guid jobId, string kind)
    {
        var activity = Source.StartActivity("job.accept", ActivityKind.Producer);
        activity?.SetTag("aspirellm.job.id", jobId.ToString());
        activity?.SetTag("aspirellm.job.kind", kind);
        return activity;
    }

    /// <summary>Starts the span of one agent session frame (the session itself is not a span: it lasts as long as its socket).</summary>
    public static Activity? StartAgentFrame(string frameType)
    {
        var activity = Source.StartActivity("agent.frame", ActivityKind.Server);
        activity?.SetTag("aspirellm.agent.frame_type", frameType);
        return activity;
    }

    public void JobAccepted(string kind) => _jobsAccepted.Add(1, new KeyValuePair<string, object?>("aspirellm.job.kind", kind));

    public void UsageRowsWritten(int rows) => _usageRows.Add(rows);

    public void Dispose() => _meter.Dispose();
}
