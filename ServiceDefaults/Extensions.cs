using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The Aspire service defaults: telemetry, health checks, service discovery and HTTP
/// resilience, plus the meters and activity sources of AspireLlm's own components.
/// </summary>
public static class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";

    /// <summary>Prefix of every AspireLlm meter and activity source.</summary>
    public const string TelemetryPrefix = "AspireLlm.";

    /// <summary>
    /// The named HttpClient prefix for LLM provider clients. Clients whose name starts with it
    /// do not get the standard resilience handler: Orchestration owns the only retry layer for
    /// model calls, and the standard handler's 10 s attempt timeout would cut long generations.
    /// </summary>
    public const string ProviderHttpClientPrefix = "llm-provider-";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.AddGracefulShutdown();
        builder.Services.AddServiceDiscovery();

        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddServiceDiscovery();
        });

        return builder;
    }

    /// <summary>
    /// Adds the standard resilience handler to a service-to-service HttpClient. It is opt-in per
    /// client rather than a default so that provider clients never stack it under our own retries.
    /// </summary>
    public static IHttpClientBuilder AddServiceResilience(this IHttpClientBuilder http)
    {
        if (http.Name.StartsWith(ProviderHttpClientPrefix, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"HttpClient '{http.Name}' calls an LLM provider; its retries belong to Orchestration.");
        }

        http.AddStandardResilienceHandler();
        return http;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddMeter(TelemetryPrefix + "*")
                    .AddMeter("Experimental.Microsoft.Extensions.AI");
            });

        builder.AddOpenTelemetryExporters();
        return builder;
    }

    /// <summary>
    /// Traces are collected only when there is somewhere to send them. With no exporter, a tracer
    /// provider would still make every request's spans, tag them and drop them. Then no instrumentation
    /// is added, and the spans of the sources that Aspire's components add themselves (Npgsql) are never
    /// sampled, so none is made. A process may still listen on our activity sources itself (a test, a profiler).
    /// </summary>
    private static void AddTracing(IOpenTelemetryBuilder openTelemetry, string applicationName) =>
        openTelemetry.WithTracing(tracing =>
        {
            tracing.AddSource(applicationName)
                .AddSource(TelemetryPrefix + "*")
                .AddSource("Experimental.Microsoft.Extensions.AI")
                .AddAspNetCoreInstrumentation(tracing =>
                    // Probes are polled every few seconds; tracing them only buries real requests. A WebSocket
                    // request (an agent session, a Blazor circuit) lasts as long as its connection: its span would
                    // close hours later and its tags would be held all that time, for every open connection.
                    tracing.Filter = context =>
                        !context.Request.Path.StartsWithSegments(HealthEndpointPath)
                        && !context.Request.Path.StartsWithSegments(AlivenessEndpointPath)
                        && !IsWebSocket(context))
                .AddHttpClientInstrumentation();
        });

    /// <summary>
    /// A WebSocket request, seen before the WebSockets middleware has run (the filter runs as the request
    /// starts): an HTTP/1.1 upgrade to <c>websocket</c>, or an HTTP/2 extended CONNECT for it.
    /// </summary>
    private static bool IsWebSocket(HttpContext context) =>
        context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect
            ? string.Equals(connect.Protocol, "websocket", StringComparison.OrdinalIgnoreCase)
            : context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true
              && context.Request.Headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase);

    private static TBuilder AddOpenTelemetryExporters<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var useOtlpExporter = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var openTelemetry = builder.Services.AddOpenTelemetry();
        if (useOtlpExporter)
        {
            AddTracing(openTelemetry, builder.Environment.ApplicationName);
            openTelemetry.UseOtlpExporter();
        }
        else
        {
            openTelemetry.WithTracing(tracing => tracing.SetSampler(new AlwaysOffSampler()));
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            // Liveness: the process answers. Nothing external, so a dependency outage never restarts us.
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);

        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (readiness: every registered check, and only the dependencies a
    /// process cannot serve without are registered; model providers never are) and <c>/alive</c>
    /// (liveness: the self check only). Both are mapped in every environment because Kubernetes probes need them,
    /// and both answer with the status word only: no check names, no exception text.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath).DisableHttpMetrics();

        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains("live"),
        }).DisableHttpMetrics();

        return app;
    }
}
