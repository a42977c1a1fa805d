using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AspireLlm.Orchestration.Embeddings;

/// <summary>
/// Loads the local embedding model in the background as the process starts, when an embedding alias
/// uses it: loading takes a second or two on an idle machine (ten under load), which the first search,
/// upload or embeddings request would otherwise wait for. Start is not held up; a request that comes
/// sooner waits for the same load.
/// </summary>
internal sealed partial class LocalEmbeddingWarmUp(IOptions<OrchestrationOptions> options, ILogger<LocalEmbeddingWarmUp> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.EmbeddingModels.Values.SelectMany(alias => alias.Deployments)
            .Any(name => settings.Deployments.TryGetValue(name, out var deployment) && deployment.Provider == ProviderNames.Local))
        {
            _ = Task.Run(() =>
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

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1510, Level = LogLevel.Error, Message = "The local embedding model could not be loaded; requests that need it fail until it can.")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception);
}
