using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Telemetry;
using AspireLlm.Tests.Shared;
using Microsoft.Extensions.AI;

namespace AspireLlm.UnitTests.Orchestration;

public sealed class TelemetryTests : IDisposable
{
    private readonly ConcurrentBag<Activity> _spans = [];
    private readonly ConcurrentBag<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = [];
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters = new();
    private readonly string _alias = "telemetry-" + Guid.NewGuid().ToString("N")[..8];

    public TelemetryTests()
    {
        _activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == OrchestrationTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Add,
        };
        ActivitySource.AddActivityListener(_activities);
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == OrchestrationTelemetry.SourceName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _meters.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _meters.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        _measurements.Add((instrument.Name, value, tags.ToArray().ToDictionary(tag => tag.Key, tag => tag.Value)));

    public void Dispose()
    {
        _activities.Dispose();
        _meters.Dispose();
    }

    private IChatClient Pipeline(bool deadFirst = false)
    {
        var options = OrchestrationOptions.Simulated();
        options.Deployments[_alias + "-dead"] = new DeploymentOptions { Provider = ProviderNames.Simulator, Model = "sim-dead", Faults = new() { ServerErrorShare = 1 } };
        options.Deployments[_alias] = new DeploymentOptions { Provider = ProviderNames.Simulator, Model = "sim-" + _alias, InputPricePerMillion = 1m, OutputPricePerMillion = 1m };
        options.Models[_alias] = new ModelAliasOptions
        {
            Groups = [new DeploymentGroupOptions { Deployments = deadFirst ? [_alias + "-dead", _alias] : [_alias] }],
        };
        options.Resilience.MaxRetries = 1;
        options.Resilience.BaseDelay = TimeSpan.FromMilliseconds(1);
        return TestPipelines.Catalog(options, cacheStore: new InMemoryAnswerStore()).GetChatClient(_alias);
    }

    [Fact]
    public async Task Each_provider_call_is_a_GenAI_chat_span_with_usage_attributes()
    {
        await Pipeline().GetResponseAsync([new ChatMessage(ChatRole.User, "Hello there")], new ChatOptions { Temperature = 0.5f });

        var span = Assert.Single(_spans, span => span.DisplayName == $"chat sim-{_alias}");
        Assert.Equal("chat", span.GetTagItem("gen_ai.operation.name"));
        Assert.Equal($"sim-{_alias}", span.GetTagItem("gen_ai.request.model"));
        Assert.True(Convert.ToInt32(span.GetTagItem("gen_ai.usage.input_tokens")) > 0);
        Assert.True(Convert.ToInt32(span.GetTagItem("gen_ai.usage.output_tokens")) > 0);
        Assert.Contains(_measurements, m => m.Instrument == "gen_ai.client.token.usage" && Equals(m.Tags.GetValueOrDefault("gen_ai.request.model"), $"sim-{_alias}"));
        Assert.Contains(_measurements, m => m.Instrument == "gen_ai.client.operation.duration" && Equals(m.Tags.GetValueOrDefault("gen_ai.request.model"), $"sim-{_alias}"));
    }

    [Fact]
    public async Task Retries_fallbacks_cost_cache_and_first_chunk_are_counted()
    {
        var chat = Pipeline(deadFirst: true);
        var options = new ChatOptions { Temperature = 0 };

        await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "Hello there")], options.Clone().WithCallContext(new ModelCallContext("t")));
        await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "Hello there")], options.Clone().WithCallContext(new ModelCallContext("t")));
        await foreach (var _ in chat.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Stream this")], new ChatOptions { Temperature = 1 }))
        {
        }

        bool Ours((string Instrument, double Value, Dictionary<string, object?> Tags) m, string instrument) =>
            m.Instrument == instrument && (Equals(m.Tags.GetValueOrDefault("gen_ai.request.model"), _alias)
                || (m.Tags.GetValueOrDefault("aspirellm.deployment") as string)?.StartsWith(_alias, StringComparison.Ordinal) == true);

        Assert.Contains(_measurements, m => Ours(m, "aspirellm.llm.retries") && Equals(m.Tags["error.type"], "ServerError"));
        Assert.Contains(_measurements, m => Ours(m, "aspirellm.llm.fallbacks") && Equals(m.Tags["aspirellm.fallback.reason"], "server_error"));
        Assert.Contains(_measurements, m => Ours(m, "aspirellm.llm.cost") && m.Value > 0);
        Assert.Contains(_measurements, m => Ours(m, "aspirellm.llm.cache.requests") && Equals(m.Tags["aspirellm.cache.outcome"], "miss"));
        Assert.Contains(_measurements, m => Ours(m, "aspirellm.llm.cache.requests") && Equals(m.Tags["aspirellm.cache.outcome"], "hit"));
        Assert.Contains(_measurements, m => Ours(m, "gen_ai.client.operation.time_to_first_chunk"));
    }
}
