using AspireLlm.Orchestration.Simulator;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AspireLlm.Orchestration.Routing;

/// <summary>
/// Resolves a model alias to the chat client that serves it. Every model call in the Api and the
/// Worker goes through here, so it is the one place where the pipeline around a provider is built.
/// </summary>
public sealed class ModelCatalog
{
    private readonly Dictionary<string, IChatClient> _clients;

    public ModelCatalog(IOptions<OrchestrationOptions> options, IOptions<SimulatorOptions> simulator, TimeProvider timeProvider)
    {
        _clients = options.Value.Models.ToDictionary(
            pair => pair.Key,
            pair => CreateClient(pair.Value, simulator.Value, timeProvider),
            StringComparer.Ordinal);
    }

    /// <summary>The aliases this deployment routes, in a stable order.</summary>
    public IReadOnlyList<string> Aliases => [.. _clients.Keys.Order(StringComparer.Ordinal)];

    public bool IsKnown(string alias) => _clients.ContainsKey(alias);

    /// <summary>The client for <paramref name="alias"/>; throws for an alias that was not validated first.</summary>
    public IChatClient GetChatClient(string alias) =>
        _clients.TryGetValue(alias, out var client)
            ? client
            : throw new KeyNotFoundException($"Model alias '{alias}' is not routed by this deployment.");

    private static IChatClient CreateClient(ModelRoute route, SimulatorOptions simulator, TimeProvider timeProvider) =>
        route.Provider switch
        {
            ProviderNames.Simulator => new ChatClientBuilder(new SimulatorChatClient(simulator, timeProvider, route.Model))
                .ConfigureOptions(options => options.ModelId ??= route.Model)
                .Build(),
            _ => throw new InvalidOperationException($"Provider '{route.Provider}' is not supported."),
        };
}
