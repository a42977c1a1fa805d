using System.Text.Json;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Routing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AspireLlm.Worker.Jobs;

/// <summary>
/// Runs one chat completion through Orchestration. Idempotent: starting a finished job does nothing,
/// and the result and the ledger row are written in one transaction guarded by the job's status, so a
/// second delivery can neither overwrite the result nor charge twice.
/// </summary>
internal sealed partial class ChatCompletionJob(
    JobStore store, ModelCatalog models, IOptions<WorkerOptions> options, TimeProvider timeProvider, ILogger<ChatCompletionJob> logger)
    : IChatCompletionJob
{
    public async Task RunAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var job = await store.TryStartAsync(jobId, timeProvider.GetUtcNow(), cancellationToken);
        if (job is null)
        {
            LogAlreadyFinal(logger, jobId);
            return;
        }

        var input = job.Input.Deserialize<ChatCompletionInput>()!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(options.Value.ChatTimeoutSeconds), timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            var client = models.GetChatClient(input.Model!);
            var response = await client.GetResponseAsync(input.ToChatMessages(), input.ToChatOptions(), linked.Token);
            var completion = ChatCompletionResult.From(response, input.Model!, timeProvider.GetUtcNow());

            var finished = await store.CompleteAsync(
                job, completion.Result, completion.Usage, completion.Charge, timeProvider.GetUtcNow(), CancellationToken.None);
            if (!finished)
            {
                LogAlreadyFinal(logger, jobId);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The Worker is shutting down: hand the job back so Hangfire requeues it for another run.
            await store.RequeueAsync(jobId, "worker shutting down", timeProvider.GetUtcNow(), CancellationToken.None);
            throw;
        }
        catch (Exception exception) when (TransientFaults.IsTransient(exception, deadline.IsCancellationRequested)
                                          && job.Attempts < IChatCompletionJob.MaxAttempts)
        {
            LogTransientFailure(logger, jobId, job.Attempts, exception.GetType().Name);
            await store.RequeueAsync(jobId, TransientFaults.Describe(exception), timeProvider.GetUtcNow(), CancellationToken.None);
            throw;
        }
        catch (Exception exception)
        {
            var (code, message) = TransientFaults.ToError(exception, deadline.IsCancellationRequested);
            LogFailed(logger, jobId, code);
            await store.FailAsync(jobId, code, message, timeProvider.GetUtcNow(), CancellationToken.None);
        }
    }

    [LoggerMessage(4001, LogLevel.Information, "Job {JobId} is already finished; this delivery does nothing.")]
    private static partial void LogAlreadyFinal(ILogger logger, Guid jobId);

    [LoggerMessage(4002, LogLevel.Warning, "Job {JobId} attempt {Attempt} hit a transient fault ({Fault}); it will be retried.")]
    private static partial void LogTransientFailure(ILogger logger, Guid jobId, int attempt, string fault);

    [LoggerMessage(4003, LogLevel.Warning, "Job {JobId} failed with {Code}.")]
    private static partial void LogFailed(ILogger logger, Guid jobId, string code);
}
