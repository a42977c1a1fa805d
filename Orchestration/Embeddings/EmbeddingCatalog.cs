using AspireLlm.Orchestration.Providers;
using AspireLlm.Orchestration.Resilience;
using AspireLlm.Orchestration.Telemetry;
using AspireLlm.Orchestration.Tokens;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace AspireLlm.Orchestration.Embeddings;

/// <summary>One embedding deployment: its generator, its retries and its price.</summary>
public sealed record EmbeddingDeployment(string Name, DeploymentOptions Options, IEmbeddingGenerator<string, Embedding<float>> Generator, ResiliencePipeline Retry)
{
    public ModelPrice Price { get; } = new(Options.InputPricePerMillion, 0m);
}

/// <summary>
/// Embedding model aliases and the deployments that serve them. A call tries the deployments in
/// order, each with the same retry rules as chat calls (transient failures only, backoff,
/// Retry-After); the first that answers is used. Embeddings are short, idempotent calls, so they
/// get no circuit breaker or cache of their own.
/// </summary>
public sealed class EmbeddingCatalog
{
    private readonly Dictionary<string, EmbeddingDeployment[]> _aliases;
    private readonly HashSet<string> _redacted;
    private readonly TokenCounter _tokens = TokenCounter.Shared;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _deadline;

    public EmbeddingCatalog(IOptions<OrchestrationOptions> options, IConfiguration configuration, TimeProvider timeProvider,
        OrchestrationTelemetry telemetry, ILoggerFactory loggerFactory)
    {
        var settings = options.Value;
        _timeProvider = timeProvider;
        _deadline = settings.Resilience.DefaultDeadline;
        var providers = new ProviderClientFactory(configuration, settings.Simulator, timeProvider);
        var logger = loggerFactory.CreateLogger<EmbeddingCatalog>();
        var built = new Dictionary<string, EmbeddingDeployment>(StringComparer.Ordinal);
        _aliases = settings.EmbeddingModels.ToDictionary(
            pair => pair.Key,
            pair => pair.Value.Deployments.Select(name => built.TryGetValue(name, out var existing) ? existing : built[name] = new EmbeddingDeployment(
                name, settings.Deployments[name], providers.CreateEmbeddings(name, settings.Deployments[name]),
                DeploymentRetry.Build(name, settings.Resilience, timeProvider, telemetry, logger))).ToArray(),
            StringComparer.Ordinal);
        _redacted = [.. settings.EmbeddingModels.Where(pair => pair.Value.RedactInputs).Select(pair => pair.Key)];
    }

    public IReadOnlyList<string> Aliases => [.. _aliases.Keys.Order(StringComparer.Ordinal)];

    public bool IsKnown(string alias) => _aliases.ContainsKey(alias);

    public IReadOnlyList<EmbeddingDeployment> DeploymentsOf(string alias) => _aliases[alias];

    /// <summary>
    /// Prompt tokens of <paramref name="inputs"/>, for admission before the call. Each input is counted up
    /// to the alias's largest context window at most: no deployment takes more of one input (providers
    /// refuse it, the local model reads its first tokens only), and a huge input costs no more counting.
    /// </summary>
    public int CountTokens(string alias, IEnumerable<string> inputs)
    {
        var window = _aliases[alias].Max(deployment => deployment.Options.ContextWindow);
        return inputs.Sum(input => Math.Min(_tokens.CountText(input, TokenEncoding.Cl100k, window), window + 1));
    }

    /// <summary>
    /// The embeddings, the deployment that made them and what they cost. For an alias with
    /// <see cref="EmbeddingAliasOptions.RedactInputs"/>, the provider embeds the inputs with personal data
    /// replaced by placeholders.
    /// </summary>
    public async Task<(GeneratedEmbeddings<Embedding<float>> Embeddings, EmbeddingDeployment Deployment, decimal Cost)> GenerateAsync(
        string alias, IReadOnlyList<string> inputs, int? dimensions, CancellationToken cancellationToken)
    {
        if (_redacted.Contains(alias))
        {
            var original = inputs;
            inputs = await LargePromptGate.RunAsync(
                inputs.Sum(input => (long)input.Length), () => (IReadOnlyList<string>)[.. original.Select(Redaction.PiiRedactor.Redact)], cancellationToken);
        }

        var failures = new List<string>();
        var deadline = _timeProvider.GetUtcNow() + _deadline;
        using var deadlineSource = new CancellationTokenSource(_deadline, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadlineSource.Token);
        foreach (var deployment in _aliases[alias])
        {
            try
            {
                var options = new EmbeddingGenerationOptions { ModelId = deployment.Options.Model, Dimensions = dimensions };
                var context = ResilienceContextPool.Shared.Get(linked.Token);
                context.Properties.Set(DeploymentRetry.Deadline, deadline);
                GeneratedEmbeddings<Embedding<float>> embeddings;
                try
                {
                    embeddings = await deployment.Retry.ExecuteAsync(
                        static async (context, state) =>
                        {
                            // The same per-attempt timeout as chat calls: provider clients run without one of their own.
                            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
                            attempt.CancelAfter(state.Deployment.Options.AttemptTimeout);
                            try
                            {
                                return await state.Deployment.Generator.GenerateAsync(state.Inputs, state.Options, attempt.Token);
                            }
                            catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
                            {
                                throw new AttemptTimeoutException(state.Deployment.Name, state.Deployment.Options.AttemptTimeout);
                            }
                        },
                        context, (Deployment: deployment, Inputs: inputs, Options: options));
                }
                finally
                {
                    ResilienceContextPool.Shared.Return(context);
                }

                var tokens = embeddings.Usage?.InputTokenCount ?? CountTokens(alias, inputs);
                embeddings.Usage ??= new UsageDetails { InputTokenCount = tokens, TotalTokenCount = tokens };
                return (embeddings, deployment, deployment.Price.CostOf(tokens, 0));
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested
                && (deadlineSource.IsCancellationRequested || FailureClassifier.Classify(exception) is not (FailureKind.BadRequest or FailureKind.Other)))
            {
                // Only the kind of failure travels on: provider messages can name hosts or echo key fragments.
                failures.Add($"{deployment.Name}: {FailureClassifier.Classify(exception)}");
                if (deadlineSource.IsCancellationRequested)
                {
                    break;
                }
            }
        }

        throw new Routing.ModelUnavailableException(alias, failures, TimeSpan.FromSeconds(5));
    }
}
