using Microsoft.Extensions.Configuration;

namespace AspireLlm.AppHost;

internal static class ParameterExtensions
{
    /// <summary>
    /// A secret parameter that may be left empty: run mode then passes an empty value (the services
    /// fall back to the simulator) instead of stopping to ask for it. Publish mode still declares it
    /// as a secret input so that deployments can supply it.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddOptionalSecret(this IDistributedApplicationBuilder builder, string name)
    {
        var configured = builder.Configuration[$"Parameters:{name}"] ?? "";
        return builder.AddParameter(name, configured, publishValueAsDefault: false, secret: true);
    }

    /// <summary>Replica count from <c>AspireLlm:Replicas:{name}</c>; two of each is a normal configuration.</summary>
    public static int GetReplicas(this IDistributedApplicationBuilder builder, string name)
    {
        var value = builder.Configuration.GetValue<int?>($"AspireLlm:Replicas:{name}") ?? 1;
        if (value is < 1 or > 16)
        {
            throw new InvalidOperationException($"AspireLlm:Replicas:{name} must be between 1 and 16 (was {value}).");
        }

        return value;
    }

    /// <summary>
    /// Runtime settings our images carry (Directory.Build.props, "Container images"), for processes the
    /// AppHost runs from source: without the call-counting delay, and promoting only methods called 500
    /// times, a replica under load compiles its hot code optimised within seconds of its start instead
    /// of after minutes.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithRuntimeSettings(this IResourceBuilder<ProjectResource> project) =>
        project.WithEnvironment("DOTNET_TC_CallCountingDelayMs", "0")
            .WithEnvironment("DOTNET_TC_CallCountThreshold", "500");

    /// <summary>
    /// The Api's socket work runs where it completes, not handed to the thread pool (Api/Hosting/InlineSocketCompletions.cs):
    /// fewer thread wake-ups per request. Only the Api: its request path never blocks, which the Worker's
    /// Hangfire does by design.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithInlineSocketCompletions(this IResourceBuilder<ProjectResource> project) =>
        project.WithEnvironment("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
}
