using System.Diagnostics;
using System.Diagnostics.Metrics;
using AspireLlm.Orchestration.Jobs;

namespace AspireLlm.Worker.Observability;

/// <summary>
/// The Worker's own activity source and meter (<c>AspireLlm.Worker</c>). A job's spans continue the
/// trace of the request that created it (its W3C context is on the job row): dispatch and run are
/// children of the Api's <c>job.accept</c>, and every model call of the run is a child of the run.
/// Metrics: job duration by kind and outcome, pick-up latency, and queue depth.
/// </summary>
public sealed class WorkerTelemetry : IDisposable
{
    public const string SourceName = "AspireLlm.Worker";

    public static readonly ActivitySource Source = new(SourceName);

    private readonly Meter _meter;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _pickup;
    private volatile IReadOnlyList<QueueDepth> _depths = [];

    public WorkerTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(SourceName);
        InstrumentAdvice<double> seconds = new() { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800] };
        _duration = _meter.CreateHistogram("aspirellm.worker.job.duration", "s", "Job runs, by kind and outcome (completed, failed, cancelled, deferred, requeued).", advice: seconds);
        _pickup = _meter.CreateHistogram("aspirellm.worker.job.pickup_latency", "s", "From a job's acceptance to the start of its first run, by kind.", advice: seconds);
        _meter.CreateObservableGauge("aspirellm.worker.queue.depth", () => _depths.Select(depth => new Measurement<long>(depth.Count,
            new KeyValuePair<string, object?>("aspirellm.job.kind", depth.Kind), new KeyValuePair<string, object?>("aspirellm.job.status", depth.Status))),
            "{job}", "Pending and running jobs in the whole cluster, by kind and status (every Worker reports the same figure: take the max).");
    }

    /// <summary>The job's run span, a child of the span that accepted (or retried) the job.</summary>
    public static Activity? StartRun(JobRecord job) => Start("job.run", ActivityKind.Consumer, job.Id, job.Kind, job.TraceParent, job.TraceState, job.Run);

    /// <summary>The span around putting a job on its queue, beside the run in the job's trace.</summary>
    public static Activity? StartDispatch(DispatchedJob job) => Start("job.dispatch", ActivityKind.Internal, job.Id, job.Kind, job.TraceParent, job.TraceState, null);

    /// <summary>One attempt to deliver a job's webhook, in the job's trace (a child of the span that accepted the job).</summary>
    public static Activity? StartWebhook(WebhookDelivery delivery)
    {
        ActivityContext.TryParse(delivery.TraceParent, delivery.TraceState, out var parent);
        var activity = Source.StartActivity("webhook.deliver", ActivityKind.Producer, parent);
        activity?.SetTag("aspirellm.job.id", delivery.JobId.ToString());
        activity?.SetTag("aspirellm.job.run", delivery.Run);
        activity?.SetTag("aspirellm.webhook.attempt", delivery.Attempt);
        return activity;
    }

    private static Activity? Start(string name, ActivityKind kind, Guid jobId, string jobKind, string? traceParent, string? traceState, int? run)
    {
        ActivityContext.TryParse(traceParent, traceState, out var parent);
        var activity = Source.StartActivity($"{name} {jobKind}", kind, parent);
        activity?.SetTag("aspirellm.job.id", jobId.ToString());
        activity?.SetTag("aspirellm.job.kind", jobKind);
        if (run is not null)
        {
            activity?.SetTag("aspirellm.job.run", run);
        }

        return activity;
    }

    public void Finished(string kind, string outcome, TimeSpan elapsed) =>
        _duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("aspirellm.job.kind", kind), new KeyValuePair<string, object?>("aspirellm.job.outcome", outcome));

    /// <summary>Pick-up latency of a job's first run (later runs and retries wait on purpose, so they would only blur it).</summary>
    public void Started(JobRecord job, DateTimeOffset now)
    {
        if (job.Run == 1 && job.Attempts == 1)
        {
            _pickup.Record(Math.Max(0, (now - job.CreatedAt).TotalSeconds), new KeyValuePair<string, object?>("aspirellm.job.kind", job.Kind));
        }
    }

    public void QueueDepths(IReadOnlyList<QueueDepth> depths) => _depths = depths;

    public void Dispose() => _meter.Dispose();
}

public sealed record QueueDepth(string Kind, string Status, long Count);
