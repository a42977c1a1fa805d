using BenchmarkDotNet.Attributes;
using AspireLlm.Orchestration.Tokens;
using Microsoft.Extensions.AI;

namespace AspireLlm.OrchestrationBench;

/// <summary>
/// What counting a request's prompt costs (admission and the context-window check need it before every
/// model call), counted afresh and with a tenant's repeated texts remembered (<see cref="TokenCounter.CountRequest"/>
/// with a scope). The workload is a chat of <see cref="Turns"/> turns as a chat application sends it: every
/// request carries a system prompt, a tool and the whole conversation so far. Each run of the remembered
/// case is a new tenant, so every text is counted once, on the turn it first appears, as in production.
/// </summary>
[MemoryDiagnoser]
public class TokenCountingBenchmarks
{
    public const int Turns = 20;

    private static readonly string SystemPrompt = string.Join(' ', Enumerable.Repeat(
        "You are the support assistant of Northwind Cloud. Answer in plain English, in at most five sentences, " +
        "cite the section of the operator's manual you rely on, never guess prices or dates, and hand over to a " +
        "person when the customer asks for a refund or mentions a security incident.", 5));

    private static readonly ChatOptions Options = new()
    {
        MaxOutputTokens = 512,
        Tools = [AIFunctionFactory.Create((string project, int days) => $"{project}:{days}", "usage_report",
            "The requests, tokens and cost of one project over the last few days, by model.")],
    };

    private readonly List<List<ChatMessage>> _requests = [];
    private readonly List<ChatMessage> _typical =
    [
        new(ChatRole.System, "You are a concise assistant for a software team. Answer in plain text."),
        new(ChatRole.User, "Our service calls an LLM provider through a gateway. List three things the gateway should log for each request, and say in one sentence why each one matters."),
    ];

    private int _tenant;

    [GlobalSetup]
    public void Setup()
    {
        var conversation = new List<ChatMessage> { new(ChatRole.System, SystemPrompt) };
        for (var turn = 1; turn <= Turns; turn++)
        {
            conversation.Add(new ChatMessage(ChatRole.User,
                $"Turn {turn}: our nightly batch for project alpha-{turn} was refused with a rate limit at 02:00 although the dashboard shows spare quota. Why?"));
            _requests.Add([.. conversation]);
            conversation.Add(new ChatMessage(ChatRole.Assistant, string.Join(' ', Enumerable.Repeat(
                $"The refusal for alpha-{turn} came from the per-minute token limit: the batch reserves each request's worst case, " +
                "prompt plus max_tokens, before the call and settles the real usage after it (manual, section 4.2).", 3))));
        }

        _ = TokenCounter.Shared.CountRequest(_typical, null, TokenEncoding.O200k);
    }

    [Benchmark(Baseline = true)]
    public int ChatAfresh()
    {
        var total = 0;
        foreach (var request in _requests)
        {
            total += TokenCounter.Shared.CountRequest(request, Options, TokenEncoding.O200k);
        }

        return total;
    }

    [Benchmark]
    public int ChatRemembered()
    {
        var tenant = $"bench-tenant-{Interlocked.Increment(ref _tenant)}";
        var total = 0;
        foreach (var request in _requests)
        {
            total += TokenCounter.Shared.CountRequest(request, Options, TokenEncoding.O200k, scope: tenant);
        }

        return total;
    }

    [Benchmark]
    public int TypicalAfresh() => TokenCounter.Shared.CountRequest(_typical, null, TokenEncoding.O200k);

    [Benchmark]
    public int TypicalRemembered() => TokenCounter.Shared.CountRequest(_typical, null, TokenEncoding.O200k, scope: "bench-tenant");
}
