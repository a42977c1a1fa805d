using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AspireLlm.Orchestration.Embeddings;

/// <summary>
/// Loads the local embedding model in the background as the process starts, when it stands in for a
/// provider's embedding alias (no provider key: <c>text-embedding-3-small</c> is served locally):
/// loading takes a second or two on an idle machine (ten under load), which the first search, upload
/// or embeddings request would otherwise wait for. Start is not held up; a request that comes sooner
/// waits for the same load. When only the local alias itself names it (a provider serves the usual
/// aliases), the model is loaded on first use: it holds about 150 MiB that a gateway replica which
/// never embeds locally should not carry (bench/run-gateway-bench.sh measured 632 against 349 MiB peak).
/// </summary>
internal sealed partial class LocalEmbeddingWarmUp(IOptions<OrchestrationOptions> options, ILogger<LocalEmbeddingWarmUp> logger) : IHostedService
{
    private Task? _loading;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.EmbeddingModels
            .Where(alias => alias.Key != DefaultRouting.LocalEmbeddingAlias)
            .SelectMany(alias => alias.Value.Deployments)
            .Any(name => settings.Deployments.TryGetValue(name, out var deployment) && deployment.Provider == ProviderNames.Local))
        {
            _loading = Task.Run(() =>
            {
                try
                {
                    LocalMiniLmEmbeddingGenerator.WarmUp();
                }
                catch (Exception exception) when (exception is IOException or InvalidOperationException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
                {
                    LogLoadFailed(logger, exception);
                }
            }, CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Stopped after the servers that use the model (hosted services stop in reverse order): a load still in
    /// flight is let finish, so the process never exits in the middle of it (a Worker stopped with SIGTERM
    /// while its model loaded ended with SIGSEGV).
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_loading is not null)
        {
            try
            {
                await _loading.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // Out of shutdown time.
            }
        }
    }

    [LoggerMessage(EventId = 1510, Level = LogLevel.Error, Message = "The local embedding model could not be loaded; requests that need it fail until it can.")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception);
}
