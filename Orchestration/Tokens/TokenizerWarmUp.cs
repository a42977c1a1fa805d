using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AspireLlm.Orchestration.Tokens;

/// <summary>
/// Loads the tokenizers the configured deployments use while the host starts, before it takes work:
/// otherwise the first model call of a process spends its first few hundred milliseconds parsing
/// vocabularies, uncancellable. An encoding no deployment uses is never loaded (tens of MiB each).
/// </summary>
internal sealed class TokenizerWarmUp(IOptions<OrchestrationOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var counter = TokenCounter.Shared;
        var encodings = options.Value.Deployments.Values
            .Select(deployment => counter.EncodingFor(deployment.Provider, deployment.Model))
            .ToArray();
        return Task.Run(() => counter.WarmUp(encodings), cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
