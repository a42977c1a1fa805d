using System.Text.Json;
using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.Agents;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Orchestration.Simulator;
using AspireLlm.Worker.Jobs;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AspireLlm.Worker.Agents;

/// <summary>
/// Runs an agent task: model function calling through the whole model pipeline (every call admitted
/// and charged to the task's key), the tools it calls, and the questions it asks. Each step is
/// checkpointed before its events go out and before the next step starts, so a run that crashes
/// loses at most the step in flight and any Worker continues from the checkpoint; a tool whose
/// result was checkpointed never runs again. When the agent asks the user, the run checkpoints and
/// hands its Worker slot back; the answer (or the input timeout) queues the task again. The
/// lifecycle around it (start, deadline, cancellation, completion and charging) is <see cref="JobExecution"/>'s.
/// </summary>
internal sealed partial class AgentJob(
    JobExecution execution, JobEventLog events, AgentStore store, ModelCatalog models, AdmissionSubjects subjects,
    AgentToolbox toolbox, IOptions<AgentOptions> options, TimeProvider timeProvider, ILogger<AgentJob> logger) : IAgentJob
{
    public Task RunAsync(Guid jobId, Guid dispatchId, CancellationToken cancellationToken) =>
        execution.RunAsync(jobId, dispatchId, job => TimeSpan.FromSeconds(Limits(JobInputs.Agent(job.Input)).DeadlineSeconds), RunBodyAsync, cancellationToken);

    private (AgentDefinition Agent, int MaxSteps, int DeadlineSeconds) Limits(AgentInput input) =>
        options.Value.Definitions.TryGetValue(input.Agent, out var agent)
            ? (agent, Math.Min(input.MaxSteps ?? agent.MaxSteps, agent.MaxSteps), Math.Min(input.DeadlineSeconds ?? agent.DeadlineSeconds, agent.DeadlineSeconds))
            : throw new InvalidJobInputException($"No agent named '{input.Agent}' is configured any more.");

    private async Task<JobOutcome> RunBodyAsync(JobRunContext context)
    {
        var job = context.Job;
        var input = JobInputs.Agent(job.Input);
        var (agent, maxSteps, _) = Limits(input);
        var run = new AgentRun(job.Id, AgentEvent.TaskIdOf(job), store, events, timeProvider, logger);
        await run.LoadAsync(context.CancellationToken);
        // First of all, whatever else happens: events the last run checkpointed but may not have sent.
        await run.PublishOutboxAsync();
        if (run.IsNew)
        {
            run.Messages.AddRange([new ChatMessage(ChatRole.System, agent.Instructions), new ChatMessage(ChatRole.User, input.Input)]);
            var model = input.Model ?? agent.Model;
            await run.SaveAsync(new AgentCheckpoint { Model = model },
                [run.Event(AgentEvent.TaskStarted) with { JobId = job.Id, Agent = input.Agent, Model = model }], [new { step = "task started", agent = input.Agent, model }],
                "task started", context.CancellationToken);
        }

        context.PartialUsage = Charge(run.Checkpoint, null);
        var subject = await subjects.ForKeyAsync(job.ApiKeyId, job.TenantId, context.CancellationToken);
        subject.EnsureAllows(run.Checkpoint.Model);
        var tools = await toolbox.DeclarationsAsync(agent, subject.Limits, context.CancellationToken);

        while (true)
        {
            if (run.Checkpoint.Pending is { } pending)
            {
                if (run.Answer is not { } answer)
                {
                    if (await WaitAsync(run, pending, context.CancellationToken))
                    {
                        return JobOutcome.Released;
                    }

                    await run.LoadAsync(context.CancellationToken);
                    continue;
                }

                run.Messages.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(pending.CallId, answer)]));
                await run.SaveAsync(run.Checkpoint with { Pending = null }, [], [], "running", context.CancellationToken);
            }

            // Calls of the last model answer still without a result (a run that crashed among them left them).
            var open = OpenCalls(run.Messages);
            if (open.Count > 0)
            {
                if (await RunToolsAsync(run, agent, subject.Limits, open, context.CancellationToken) is { } asked && await WaitAsync(run, asked, context.CancellationToken))
                {
                    return JobOutcome.Released;
                }

                continue;
            }

            if (run.Checkpoint.Step >= maxSteps)
            {
                throw new AgentTaskException("max_steps_exceeded", $"The agent used its {maxSteps} steps without finishing.");
            }

            var (response, call) = await CallModelAsync(run, input, tools, subject, context);
            var answerText = await RecordAnswerAsync(run, response, call, context.CancellationToken);
            if (answerText is not null)
            {
                return Outcome(run, answerText, call);
            }
        }
    }

    private async Task<(ChatResponse Response, ModelCallContext Call)> CallModelAsync(
        AgentRun run, AgentInput input, IList<AITool> tools, AdmissionSubject subject, JobRunContext context)
    {
        // A subject per call: admission writes its per-call snapshots into it.
        var call = new ModelCallContext(context.Job.TenantId, principal: new AdmissionSubject(subject.KeyId, subject.TenantId, subject.Limits, subject.TenantLimits));
        var chatOptions = new ChatOptions { Tools = tools.Count > 0 ? tools : null };
        if (input.SimulatorScript is { } script)
        {
            (chatOptions.AdditionalProperties ??= [])[SimulatorScript.PropertyKey] = script;
        }

        try
        {
            var response = await models.GetChatClient(run.Checkpoint.Model).GetResponseAsync(run.Messages, chatOptions.WithCallContext(call), context.CancellationToken);
            return (response, call);
        }
        finally
        {
            // Charged even when cut short (cancelled, failed): the pipeline counted what the provider produced.
            context.PartialUsage = Charge(run.Checkpoint, call);
        }
    }

    /// <summary>Checkpoints the model's answer with its thoughts and actions; returns the final text when it called no tool.</summary>
    private async Task<string?> RecordAnswerAsync(AgentRun run, ChatResponse response, ModelCallContext call, CancellationToken cancellationToken)
    {
        var contents = response.Messages.SelectMany(message => message.Contents).ToList();
        var calls = contents.OfType<FunctionCallContent>().ToList();
        var thoughts = contents
            .Select(content => content switch
            {
                TextReasoningContent reasoning => reasoning.Text,
                TextContent text when calls.Count > 0 => text.Text,
                _ => null,
            })
            .Where(text => !string.IsNullOrWhiteSpace(text))
            .ToList();

        run.Messages.AddRange(response.Messages);
        var step = run.Checkpoint.Step + 1;
        var stepEvents = new List<AgentEvent>();
        var log = new List<object>();
        foreach (var thought in thoughts)
        {
            stepEvents.Add(run.Event(AgentEvent.Thought) with { Text = thought });
            log.Add(new { step = AgentEvent.Thought, n = step, chars = thought!.Length });
        }

        foreach (var action in calls.Where(action => action.Name != AgentToolNames.AskUser))
        {
            stepEvents.Add(run.Event(AgentEvent.Action) with
            {
                Tool = action.Name,
                CallId = action.CallId,
                Arguments = JsonSerializer.SerializeToElement(action.Arguments ?? new Dictionary<string, object?>(), AIJsonUtilities.DefaultOptions),
            });
            log.Add(new { step = AgentEvent.Action, n = step, tool = action.Name, call_id = action.CallId });
        }

        var next = run.Checkpoint with
        {
            Step = step,
            InputTokens = run.Checkpoint.InputTokens + call.InputTokens,
            OutputTokens = run.Checkpoint.OutputTokens + call.OutputTokens,
            Cost = run.Checkpoint.Cost + call.Cost,
        };
        await run.SaveAsync(next, stepEvents, log, calls.Count > 0 ? $"step {step}: {string.Join(", ", calls.Select(c => c.Name))}" : $"step {step}: answering",
            cancellationToken);
        return calls.Count == 0 ? response.Text : null;
    }

    /// <summary>Runs the open calls, checkpointing each result; returns the question when the agent asked one.</summary>
    private async Task<PendingQuestion?> RunToolsAsync(
        AgentRun run, AgentDefinition agent, KeyLimits limits, IReadOnlyList<FunctionCallContent> open, CancellationToken cancellationToken)
    {
        FunctionCallContent? ask = null;
        foreach (var call in open)
        {
            ToolResult result;
            if (call.Name == AgentToolNames.AskUser && ask is null && AgentToolbox.Offers(agent, limits, call.Name))
            {
                ask = call;
                continue;
            }
            else if (call.Name == AgentToolNames.AskUser && ask is not null)
            {
                result = ToolResult.Error("Ask one question at a time.");
            }
            else if (!AgentToolbox.Offers(agent, limits, call.Name))
            {
                result = ToolResult.Error($"tool_not_allowed: this task may not call {call.Name}.");
            }
            else
            {
                result = await toolbox.InvokeAsync(agent, call, cancellationToken);
            }

            run.Messages.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(call.CallId, result.Text)]));
            await run.SaveAsync(run.Checkpoint,
                [run.Event(AgentEvent.ToolResult) with { CallId = call.CallId, Result = result.Text, IsError = result.IsError }],
                [new { step = AgentEvent.ToolResult, n = run.Checkpoint.Step, tool = call.Name, call_id = call.CallId, is_error = result.IsError, chars = result.Text.Length }],
                null, cancellationToken);
        }

        if (ask is null)
        {
            return null;
        }

        var prompt = ask.Arguments?.TryGetValue("prompt", out var value) == true ? value?.ToString() : null;
        if (string.IsNullOrWhiteSpace(prompt))
        {
            run.Messages.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(ask.CallId, "ask_user needs a 'prompt'.")]));
            await run.SaveAsync(run.Checkpoint, [], [], null, cancellationToken);
            return null;
        }

        var question = new PendingQuestion("req_" + Guid.NewGuid().ToString("N")[..16], ask.CallId, prompt);
        await run.SaveAsync(run.Checkpoint with { Pending = question },
            [run.Event(AgentEvent.NeedInput) with { RequestId = question.RequestId, Prompt = prompt }],
            [new { step = AgentEvent.NeedInput, n = run.Checkpoint.Step, request_id = question.RequestId, chars = prompt.Length }],
            "waiting for input", cancellationToken, waitingSince: timeProvider.GetUtcNow());
        return question;
    }

    /// <summary>
    /// Waits for the answer to <paramref name="question"/> without a Worker: true when the task was
    /// handed back (pending until answered or timed out); false when the answer is already here.
    /// </summary>
    private async Task<bool> WaitAsync(AgentRun run, PendingQuestion question, CancellationToken cancellationToken)
    {
        var since = run.WaitingSince ?? timeProvider.GetUtcNow();
        var timeoutAt = since + TimeSpan.FromSeconds(options.Value.InputTimeoutSeconds);
        if (timeProvider.GetUtcNow() >= timeoutAt)
        {
            throw new AgentTaskException("input_timeout", $"No answer came within {options.Value.InputTimeoutSeconds} seconds.");
        }

        if (!await store.WaitForAnswerAsync(run.JobId, question.RequestId, timeoutAt, timeProvider.GetUtcNow(), cancellationToken))
        {
            return false;
        }

        LogWaiting(logger, run.JobId, question.RequestId, timeoutAt);
        return true;
    }

    private static List<FunctionCallContent> OpenCalls(List<ChatMessage> messages)
    {
        var last = messages.FindLastIndex(message => message.Role == ChatRole.Assistant);
        if (last < 0)
        {
            return [];
        }

        var answered = messages.Skip(last + 1).SelectMany(message => message.Contents).OfType<FunctionResultContent>()
            .Select(result => result.CallId).ToHashSet(StringComparer.Ordinal);
        return [.. messages[last].Contents.OfType<FunctionCallContent>().Where(call => !answered.Contains(call.CallId))];
    }

    private static UsageEntry Charge(AgentCheckpoint checkpoint, ModelCallContext? inFlight) => new(
        checkpoint.Model, inFlight?.Deployment ?? checkpoint.Model,
        (int)(checkpoint.InputTokens + (inFlight?.InputTokens ?? 0)), (int)(checkpoint.OutputTokens + (inFlight?.OutputTokens ?? 0)),
        checkpoint.Cost + (inFlight?.Cost ?? 0m));

    private static JobOutcome Outcome(AgentRun run, string output, ModelCallContext lastCall)
    {
        var checkpoint = run.Checkpoint;
        var usage = new
        {
            prompt_tokens = checkpoint.InputTokens,
            completion_tokens = checkpoint.OutputTokens,
            total_tokens = checkpoint.InputTokens + checkpoint.OutputTokens,
        };
        var result = new { @object = "agent.task", task_id = run.TaskId, output, usage, cost = checkpoint.Cost, steps = checkpoint.Step };
        return new JobOutcome(JsonSerializer.SerializeToElement(result), JsonSerializer.SerializeToElement(usage), Charge(checkpoint, null) with
        {
            ProviderModel = lastCall.Deployment ?? checkpoint.Model,
        });
    }

    [LoggerMessage(3704, LogLevel.Information, "Agent task {JobId} waits for the answer to {RequestId} until {Until}; its Worker slot is free.")]
    private static partial void LogWaiting(ILogger logger, Guid jobId, string requestId, DateTimeOffset until);
}

/// <summary>An agent task ends with this error code (not retried): <c>input_timeout</c>, <c>max_steps_exceeded</c>.</summary>
internal sealed class AgentTaskException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
