using Microsoft.Extensions.Hosting;

namespace AspireLlm.Orchestration.Tokens;

/// <summary>
/// Loads the tokenizers while the host starts, before it takes work: otherwise the first model call
/// of a process spends its first few hundred milliseconds parsing vocabularies, uncancellable.
/// </summary>
internal sealed class TokenizerWarmUp : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.Run(TokenCounter.Shared.WarmUp, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
