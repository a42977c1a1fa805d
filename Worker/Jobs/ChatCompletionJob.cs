using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.ChatRequests;
using AspireLlm.Orchestration.Retrieval;
using AspireLlm.Orchestration.Routing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AspireLlm.Worker.Jobs;

/// <summary>
/// Runs one chat completion through Orchestration, streaming so that watchers see tokens as they
/// come. The lifecycle (idempotent start, single charge, cancellation, retries) is <see cref="JobExecution"/>'s.
/// </summary>
internal sealed class ChatCompletionJob(
    JobExecution execution, JobReporter reporter, ModelCatalog models, AdmissionSubjects subjects, IOptions<WorkerOptions> options,
    TimeProvider timeProvider, Grounding grounding) : IChatCompletionJob
{
    public Task RunAsync(Guid jobId, Guid dispatchId, CancellationToken cancellationToken) =>
        execution.RunAsync(jobId, dispatchId, TimeSpan.FromSeconds(options.Value.ChatTimeoutSeconds), RunBodyAsync, cancellationToken);

    private async Task<JobOutcome> RunBodyAsync(JobRunContext context)
    {
        var request = JobInputs.Chat(context.Job.Input);
        var alias = request.Model;
        var client = models.GetChatClient(alias);
        var subject = await subjects.ForKeyAsync(context.Job.ApiKeyId, context.Job.TenantId, context.CancellationToken);
        subject.EnsureAllows(alias);
        var call = new ModelCallContext(context.Job.TenantId, principal: subject);
        var grounded = await GroundAsync(grounding, context.Job.TenantId, request, context.CancellationToken);
        request = request with { Messages = grounded?.Messages ?? request.Messages };

        var updates = new List<ChatResponseUpdate>();
        var tokens = new TokenCoalescer(timeProvider);
        try
        {
            await foreach (var update in client.GetStreamingResponseAsync(
                request.Messages, request.Options.WithCallContext(call), context.CancellationToken))
            {
                updates.Add(update);
                if (!string.IsNullOrEmpty(update.Text) && tokens.Add(update.Text) is { } text)
                {
                    await reporter.TokenAsync(context.Job.Id, text);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The pipeline has counted what the provider produced before the cancel; that is charged.
            context.PartialUsage = ChatCompletionResult.ChargeOf(call, alias);
            throw;
        }

        if (tokens.Flush() is { } rest)
        {
            await reporter.TokenAsync(context.Job.Id, rest);
        }

        var completion = ChatCompletionResult.From(updates.ToChatResponse(), alias, timeProvider.GetUtcNow(), call, grounded);
        return new JobOutcome(completion.Result, completion.Usage, completion.Charge);
    }

    /// <summary>A request's <c>retrieval</c>, as the gateway does it; a collection that is not the tenant's fails the job as invalid.</summary>
    internal static async Task<GroundingResult?> GroundAsync(Grounding grounding, string tenantId, ChatCompletionRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return request.Retrieval is { } retrieval ? await grounding.GroundAsync(tenantId, retrieval, request.Messages, cancellationToken) : null;
        }
        catch (CollectionNotFoundException notFound)
        {
            throw new InvalidJobInputException(notFound.Message);
        }
    }
}
