using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;

namespace AspireLlm.UnitTests.Observability;

/// <summary>
/// Spans are made only when there is an exporter to send them to: without one, a tracer provider would
/// make, tag and drop every request's spans, and an Aspire component's own sources (Npgsql's) are still
/// registered with it.
/// </summary>
public sealed class TracingTests
{
    // Each test its own source names: activity listeners are process-wide and tests run in parallel.
    private readonly string _componentSource = "Component.Tracing" + Guid.NewGuid().ToString("N");
    private readonly string _ownSource = Microsoft.Extensions.Hosting.Extensions.TelemetryPrefix + "Tracing" + Guid.NewGuid().ToString("N");

    [Fact]
    public void Without_an_exporter_none_of_our_spans_is_made_and_a_components_records_nothing()
    {
        using var host = Build(otlpEndpoint: null);

        using var component = new ActivitySource(_componentSource);
        using var own = new ActivitySource(_ownSource);
        // The SDK still makes a bare activity for a sampled-out root, to carry the trace context on; it
        // asks for no data (instrumentations add no tags to it) and is recorded nowhere.
        using var componentSpan = component.StartActivity("query");
        Assert.True(componentSpan is null or { IsAllDataRequested: false, Recorded: false });
        Assert.Null(own.StartActivity("job.accept"));
    }

    [Fact]
    public void With_an_exporter_our_sources_and_a_components_are_traced()
    {
        using var host = Build(otlpEndpoint: "http://127.0.0.1:4318");

        using var component = new ActivitySource(_componentSource);
        using var own = new ActivitySource(_ownSource);
        using var componentSpan = component.StartActivity("query");
        using var ownSpan = own.StartActivity("job.accept");
        Assert.True(componentSpan is { Recorded: true });
        Assert.True(ownSpan is { Recorded: true });
    }

    private IHost Build(string? otlpEndpoint)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Production });
        builder.Configuration.AddInMemoryCollection([KeyValuePair.Create("OTEL_EXPORTER_OTLP_ENDPOINT", otlpEndpoint)]);
        builder.AddServiceDefaults();
        // As an Aspire component registers its source (Aspire.Npgsql adds "Npgsql").
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddSource(_componentSource));
        var host = builder.Build();
        _ = host.Services.GetRequiredService<TracerProvider>(); // the provider starts listening once made
        return host;
    }
}
