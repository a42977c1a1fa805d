using System.Collections.Concurrent;
using System.Text.Json;
using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.ChatRequests;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Routing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AspireLlm.Worker.Jobs;

/// <summary>
/// Runs a batch of chat requests with bounded concurrency. Each finished item is stored at once, so
/// a run interrupted by a crash or shutdown continues with the items not yet done; an item's own
/// failure is reported in its slot and does not fail the batch. Progress is the share of items done.
/// </summary>
internal sealed class BatchJob(
    JobExecution execution, JobReporter reporter, JobStore store, ModelCatalog models, AdmissionSubjects subjects, IOptions<WorkerOptions> options,
    TimeProvider timeProvider, Orchestration.Retrieval.Grounding grounding) : IBatchJob
{
    public Task RunAsync(Guid jobId, Guid dispatchId, CancellationToken cancellationToken) =>
        execution.RunAsync(jobId, dispatchId, TimeSpan.FromSeconds(options.Value.BatchTimeoutSeconds), RunBodyAsync, cancellationToken);

    private async Task<JobOutcome> RunBodyAsync(JobRunContext context)
    {
        var job = context.Job;
        var input = JobInputs.Batch(job.Input);
        var requests = input.Requests;
        var items = new ConcurrentDictionary<int, JobItem>(await store.GetItemsAsync(job.Id, job.Run, context.CancellationToken));
        var done = items.Count;
        var partial = Sum(items.Values, "batch");
        using var progressGate = new SemaphoreSlim(1, 1);

        var subject = await subjects.ForKeyAsync(job.ApiKeyId, job.TenantId, context.CancellationToken);
        var pending = Enumerable.Range(0, requests.Count).Where(index => !items.ContainsKey(index)).ToList();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = input.Concurrency, CancellationToken = context.CancellationToken };
        await Parallel.ForEachAsync(pending, parallel, async (index, cancellationToken) =>
        {
            var item = await RunItemAsync(index, requests[index], subject, cancellationToken);
            await store.SaveItemAsync(job.Id, job.Run, item, timeProvider.GetUtcNow(), CancellationToken.None);
            // One report at a time, so watchers never see progress go backwards.
            await progressGate.WaitAsync(CancellationToken.None);
            try
            {
                items[index] = item;
                partial = partial with
                {
                    InputTokens = partial.InputTokens + item.InputTokens,
                    OutputTokens = partial.OutputTokens + item.OutputTokens,
                    Cost = partial.Cost + item.Cost,
                };
                context.PartialUsage = partial;
                done++;
                await reporter.ProgressAsync(job.Id, done * 100 / requests.Count, $"{done}/{requests.Count} items", CancellationToken.None);
            }
            finally
            {
                progressGate.Release();
            }
        });

        var ordered = items.Values.OrderBy(item => item.Index).ToList();
        var charge = Sum(ordered, "batch");
        var usage = new
        {
            prompt_tokens = charge.InputTokens,
            completion_tokens = charge.OutputTokens,
            total_tokens = charge.InputTokens + charge.OutputTokens,
        };
        var result = new
        {
            @object = "batch.result",
            succeeded = ordered.Count(item => item.Status == JobStatus.Completed),
            failed = ordered.Count(item => item.Status == JobStatus.Failed),
            items = ordered.Select(item => new { index = item.Index, status = item.Status, result = item.Result, error = item.Error }),
            usage,
        };
        return new JobOutcome(JsonSerializer.SerializeToElement(result), JsonSerializer.SerializeToElement(usage), charge);
    }

    private async Task<JobItem> RunItemAsync(int index, ChatCompletionRequest request, AdmissionSubject subject, CancellationToken cancellationToken)
    {
        // A subject per item: admission writes its per-call snapshots into it.
        var call = new ModelCallContext(subject.TenantId, principal: new AdmissionSubject(subject.KeyId, subject.TenantId, subject.Limits, subject.TenantLimits));
        try
        {
            subject.EnsureAllows(request.Model);
            var grounded = await ChatCompletionJob.GroundAsync(grounding, subject.TenantId, request, cancellationToken);
            var response = await models.GetChatClient(request.Model)
                .GetResponseAsync(grounded?.Messages ?? request.Messages, request.Options.WithCallContext(call), cancellationToken);
            var completion = ChatCompletionResult.From(response, request.Model, timeProvider.GetUtcNow(), call, grounded);
            return new JobItem(
                index, JobStatus.Completed, completion.Result, null, completion.Charge.InputTokens, completion.Charge.OutputTokens, completion.Charge.Cost);
        }
        catch (Exception exception) when (exception is not OperationCanceledException && !TransientFaults.IsTransient(exception, timedOut: false))
        {
            // A request the provider rejects fails in its own slot; transient faults fail the run so it is retried.
            var (code, message) = TransientFaults.ToError(exception, timedOut: false);
            // A refused request may still have cost something (a failed structured-output repair, say).
            return new JobItem(
                index, JobStatus.Failed, null, JsonSerializer.SerializeToElement(new { code, message }),
                (int)call.InputTokens, (int)call.OutputTokens, call.Cost);
        }
    }

    private static UsageEntry Sum(IEnumerable<JobItem> items, string alias)
    {
        var list = items.ToList();
        return new UsageEntry(alias, alias, list.Sum(item => item.InputTokens), list.Sum(item => item.OutputTokens), list.Sum(item => item.Cost));
    }
}
