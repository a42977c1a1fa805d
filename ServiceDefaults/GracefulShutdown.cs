using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>How a process stops on SIGTERM, bound from <c>Shutdown</c>.</summary>
public sealed class ShutdownOptions
{
    public const string SectionName = "Shutdown";

    /// <summary>
    /// Seconds between readiness turning false and the server refusing new connections: the time a load
    /// balancer (a Kubernetes Service's endpoints, an ingress) needs to stop routing here. Requests that
    /// still arrive meanwhile are served. None by default (nothing routes by readiness in development
    /// or Compose); the Kubernetes manifests set it.
    /// </summary>
    [Range(0, 120)]
    public int DrainDelaySeconds { get; set; }

    /// <summary>
    /// Seconds in-flight requests and streams get to finish once new connections are refused; after
    /// that Kestrel closes what is left. The Api's sync budget (<c>Gateway:SyncTimeoutSeconds</c>, 30)
    /// fits in the default.
    /// </summary>
    [Range(1, 600)]
    public int GraceSeconds { get; set; } = 30;
}

/// <summary>
/// Drain on SIGTERM in the order load balancers need: readiness (<c>/health</c>) fails at once, the
/// process keeps serving for <see cref="ShutdownOptions.DrainDelaySeconds"/>, then the host stops its
/// servers, which refuse new connections and give in-flight requests the grace period
/// (<see cref="HostOptions.ShutdownTimeout"/> is set to the delay plus the grace).
/// </summary>
public static partial class GracefulShutdownExtensions
{
    /// <summary>Name of the readiness check that fails once the process is stopping.</summary>
    public const string ShutdownCheckName = "shutdown";

    public static TBuilder AddGracefulShutdown<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var section = builder.Configuration.GetSection(ShutdownOptions.SectionName);
        builder.Services.AddOptions<ShutdownOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart();
        var options = section.Get<ShutdownOptions>() ?? new ShutdownOptions();

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ShutdownState>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ShutdownState>());
        builder.Services.AddHealthChecks().AddCheck<ShutdownHealthCheck>(ShutdownCheckName);
        builder.Services.Configure<HostOptions>(host =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(options.DrainDelaySeconds + options.GraceSeconds));
        return builder;
    }

    [LoggerMessage(1990, LogLevel.Information, "Stopping: readiness is now false; serving for {DrainDelaySeconds} s more before refusing new connections, then in-flight requests get {GraceSeconds} s.")]
    internal static partial void LogDraining(ILogger logger, int drainDelaySeconds, int graceSeconds);
}

/// <summary>
/// Whether this process is draining. <see cref="Draining"/> fires when SIGTERM arrives (readiness fails);
/// <see cref="Closing"/> fires when the drain delay is over and the servers stop accepting: long-lived
/// responses that a client can resume elsewhere (job event streams) end then.
/// </summary>
public sealed class ShutdownState(IOptions<ShutdownOptions> options, TimeProvider timeProvider, ILogger<ShutdownState> logger)
    : IHostedLifecycleService, IDisposable
{
    private readonly CancellationTokenSource _draining = new();
    private readonly CancellationTokenSource _closing = new();

    /// <summary>Fires when the process starts to drain (readiness is false from then on).</summary>
    public CancellationToken Draining => _draining.Token;

    /// <summary>Fires when the drain delay is over and the servers stop accepting new connections.</summary>
    public CancellationToken Closing => _closing.Token;

    public bool IsDraining => _draining.IsCancellationRequested;

    // Runs before any hosted service (Kestrel included) is stopped: the host awaits every StoppingAsync first.
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        GracefulShutdownExtensions.LogDraining(logger, settings.DrainDelaySeconds, settings.GraceSeconds);
        await _draining.CancelAsync();
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(settings.DrainDelaySeconds), timeProvider, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout ran out first: stop now.
        }

        await _closing.CancelAsync();
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _draining.Dispose();
        _closing.Dispose();
    }
}

internal sealed class ShutdownHealthCheck(ShutdownState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.IsDraining ? HealthCheckResult.Unhealthy("draining") : HealthCheckResult.Healthy());
}
