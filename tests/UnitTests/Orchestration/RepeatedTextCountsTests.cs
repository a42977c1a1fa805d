using AspireLlm.Orchestration.Tokens;
using Microsoft.Extensions.AI;

namespace AspireLlm.UnitTests.Orchestration;

/// <summary>
/// A tenant's long texts (system prompt, tools, the conversation so far) are counted once and then
/// remembered for that tenant only; what is remembered is always a whole count.
/// </summary>
public sealed class RepeatedTextCountsTests
{
    private static readonly TokenCounter Counter = TokenCounter.Shared;

    private static readonly string SystemPrompt = string.Join(' ', Enumerable.Repeat(
        "You are the support assistant of a software company; answer briefly, cite the manual, and never guess prices.", 12));

    // Each test has tenants of its own: the shared counter is used by other tests at the same time.
    private static string NewTenant() => $"tenant-{Guid.NewGuid():N}";

    private static List<ChatMessage> Conversation(int turns)
    {
        var messages = new List<ChatMessage> { new(ChatRole.System, SystemPrompt) };
        for (var turn = 1; turn <= turns; turn++)
        {
            messages.Add(new ChatMessage(ChatRole.User, $"Question {turn}: how do I rotate the API key of project {turn} without downtime for its users?"));
            messages.Add(new ChatMessage(ChatRole.Assistant, $"Answer {turn}: create a second key, move the clients of project {turn} to it, then revoke the first."));
        }

        messages.Add(new ChatMessage(ChatRole.User, "And the webhook secret?"));
        return messages;
    }

    [Fact]
    public void Remembered_counts_add_up_to_the_same_total_as_counting_afresh()
    {
        var tenant = NewTenant();
        var options = new ChatOptions { Instructions = SystemPrompt, Tools = [AIFunctionFactory.Create((string city) => city, "weather", "The weather in a city, today and for the next five days.")] };
        var unscoped = Counter.CountRequest(Conversation(6), options, TokenEncoding.O200k);

        var firstTurn = Counter.CountRequest(Conversation(6), options, TokenEncoding.O200k, scope: tenant);
        var nextTurn = Counter.CountRequest(Conversation(7), options, TokenEncoding.O200k, scope: tenant);

        Assert.Equal(unscoped, firstTurn);
        Assert.Equal(Counter.CountRequest(Conversation(7), options, TokenEncoding.O200k), nextTurn);
    }

    [Fact]
    public void A_tenants_remembered_count_is_used_for_that_tenant_and_encoding_only()
    {
        var (tenant, other) = (NewTenant(), NewTenant());
        List<ChatMessage> messages = [new(ChatRole.System, SystemPrompt)];
        var honest = Counter.CountRequest(messages, null, TokenEncoding.O200k);
        var honestCl100k = Counter.CountRequest(messages, null, TokenEncoding.Cl100k);

        // A planted count shows where lookups go: only the planting tenant's o200k counts can find it.
        Counter.RepeatedTexts.For(tenant).Add(RepeatedTextCounts.KeyOf(TokenEncoding.O200k, SystemPrompt), 100_000);

        Assert.Equal(honest - Counter.CountText(SystemPrompt, TokenEncoding.O200k) + 100_000,
            Counter.CountRequest(messages, null, TokenEncoding.O200k, scope: tenant));
        Assert.Equal(honest, Counter.CountRequest(messages, null, TokenEncoding.O200k, scope: other));
        Assert.Equal(honest, Counter.CountRequest(messages, null, TokenEncoding.O200k));
        Assert.Equal(honestCl100k, Counter.CountRequest(messages, null, TokenEncoding.Cl100k, scope: tenant));
    }

    [Fact]
    public void A_count_cut_short_at_the_limit_is_not_remembered()
    {
        var tenant = NewTenant();
        var longText = string.Join(' ', Enumerable.Repeat("The quarterly report shows steady growth in every region we serve.", 2_000));
        List<ChatMessage> messages = [new(ChatRole.User, longText)];

        var limited = Counter.CountRequest(messages, null, TokenEncoding.O200k, limit: 1_000, scope: tenant);
        var whole = Counter.CountRequest(messages, null, TokenEncoding.O200k, scope: tenant);

        Assert.InRange(limited, 1_001, 1_000 + TokenCounter.BlockLength);
        Assert.Equal(Counter.CountRequest(messages, null, TokenEncoding.O200k), whole);
    }

    [Fact]
    public void A_remembered_count_past_the_limit_says_only_that_it_is_past()
    {
        var tenant = NewTenant();
        Counter.RepeatedTexts.For(tenant).Add(RepeatedTextCounts.KeyOf(TokenEncoding.O200k, SystemPrompt), 100_000);

        // As counting afresh would stop just past the window, so that the call is refused for its context
        // window rather than by admission as too large.
        Assert.Equal(5_001, Counter.CountRequest([new(ChatRole.System, SystemPrompt)], null, TokenEncoding.O200k, limit: 5_000, scope: tenant));
    }

    [Fact]
    public void Short_texts_are_not_kept()
    {
        var tenant = NewTenant();
        var shortText = new string('x', RepeatedTextCounts.MinimumLength - 1);
        Counter.RepeatedTexts.For(tenant).Add(RepeatedTextCounts.KeyOf(TokenEncoding.O200k, shortText), 100_000);

        List<ChatMessage> messages = [new(ChatRole.User, shortText)];
        Assert.Equal(Counter.CountRequest(messages, null, TokenEncoding.O200k), Counter.CountRequest(messages, null, TokenEncoding.O200k, scope: tenant));
    }

    [Fact]
    public void A_tenant_that_fills_its_counts_starts_over_alone()
    {
        var counts = new RepeatedTextCounts();
        var (flooding, quiet) = (counts.For("flooding"), counts.For("quiet"));
        quiet.Add(42, 7);
        for (var i = 0; i < RepeatedTextCounts.CapacityPerScope; i++)
        {
            flooding.Add((UInt128)i, i);
        }

        Assert.Equal(RepeatedTextCounts.CapacityPerScope, counts.CountOf("flooding"));
        flooding.Add(UInt128.MaxValue, 1);

        Assert.Equal(1, counts.CountOf("flooding"));
        Assert.False(flooding.TryGet(0, out _));
        Assert.True(quiet.TryGet(42, out var kept) && kept == 7);
    }

    [Fact]
    public void Past_the_most_scopes_all_start_over()
    {
        var counts = new RepeatedTextCounts();
        counts.For("first").Add(1, 1);
        for (var i = 1; i < RepeatedTextCounts.MaxScopes; i++)
        {
            counts.For($"scope-{i}");
        }

        Assert.Equal(1, counts.CountOf("first"));
        counts.For("one too many");

        Assert.Equal(0, counts.CountOf("first"));
    }
}
