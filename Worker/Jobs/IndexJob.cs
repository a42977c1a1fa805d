using System.Text.Json;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Retrieval;
using Microsoft.Extensions.Options;

namespace AspireLlm.Worker.Jobs;

/// <summary>
/// Indexes an uploaded document (or rebuilds a collection's vector index) with <see cref="DocumentIndexer"/>,
/// reporting progress as it embeds. The lifecycle (idempotent start, deadline, cancellation, deferral on
/// transient faults such as the vector index being unreachable) is <see cref="JobExecution"/>'s; a
/// document whose indexing fails for good is marked failed.
/// </summary>
internal sealed class IndexJob(
    JobExecution execution, JobReporter reporter, DocumentIndexer indexer, CollectionStore collections, IOptions<WorkerOptions> options,
    TimeProvider timeProvider) : IIndexJob
{
    public Task RunAsync(Guid jobId, Guid dispatchId, CancellationToken cancellationToken) =>
        execution.RunAsync(jobId, dispatchId, TimeSpan.FromSeconds(options.Value.IndexTimeoutSeconds), RunBodyAsync, cancellationToken);

    private async Task<JobOutcome> RunBodyAsync(JobRunContext context)
    {
        var job = context.Job;
        var input = JobInputs.Index(job.Input);
        Task Progress(int percent, string step) => reporter.ProgressAsync(job.Id, percent, step, CancellationToken.None);
        if (input.Document is null)
        {
            var vectors = await indexer.RebuildAsync(input.Collection, job.TenantId, Progress, context.CancellationToken);
            return Outcome(new { @object = "index.result", collection = input.Collection, rebuilt = true, vectors }, 0, 0m);
        }

        try
        {
            var outcome = await indexer.IndexAsync(input.Collection, job.TenantId, input.Document, job.Id, Progress, context.CancellationToken);
            return Outcome(new
            {
                @object = "index.result", collection = input.Collection, document = input.Document, status = outcome.Status,
                chunks = outcome.Chunks, embedded = outcome.Embedded,
            }, outcome.Tokens, outcome.Cost);
        }
        catch (Exception exception) when (exception is not OperationCanceledException && !TransientFaults.IsTransient(exception, timedOut: false))
        {
            var document = await collections.GetDocumentWithTextAsync(input.Collection, input.Document, CancellationToken.None);
            if (document is { Document.JobId: var owner } && owner == job.Id)
            {
                await collections.MarkDocumentFailedAsync(input.Collection, input.Document, document.Value.Document.Version, timeProvider.GetUtcNow(), CancellationToken.None);
            }

            throw;
        }
    }

    private static JobOutcome Outcome(object result, long tokens, decimal cost)
    {
        var usage = new { prompt_tokens = tokens, completion_tokens = 0, total_tokens = tokens };
        return new JobOutcome(JsonSerializer.SerializeToElement(result), JsonSerializer.SerializeToElement(usage),
            new UsageEntry("embeddings", "embeddings", (int)tokens, 0, cost));
    }
}
