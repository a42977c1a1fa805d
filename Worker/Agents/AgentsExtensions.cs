using AspireLlm.Orchestration.Agents;
using AspireLlm.Orchestration.Jobs;
using Microsoft.Extensions.Options;

namespace AspireLlm.Worker.Agents;

internal static class AgentsExtensions
{
    /// <summary>
    /// Agent tasks: the loop (a job kind on its own Hangfire queue), its tools (http_get behind the
    /// webhooks' address guard, MCP servers' tools) and the sweep that cancels tasks their client left.
    /// </summary>
    public static IHostApplicationBuilder AddAgents(this IHostApplicationBuilder builder)
    {
        builder.AddAgentOptions();
        builder.Services.AddSingleton<HttpGetTool>();
        builder.Services.AddSingleton<McpTools>();
        builder.Services.AddSingleton<AgentToolbox>();
        builder.Services.AddTransient<IAgentJob, AgentJob>();
        builder.Services.AddHostedService<AgentDetachSweeper>();

        // Not the standard resilience handler: a tool call is made once, its failure is the model's to read.
        builder.Services.AddHttpClient(HttpGetTool.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(services =>
            {
                var allowPrivate = services.GetRequiredService<IOptions<AgentOptions>>().Value.AllowPrivateNetworks;
                return new SocketsHttpHandler
                {
                    AllowAutoRedirect = false,
                    UseProxy = false,
                    ConnectCallback = (context, cancellationToken) =>
                        Webhooks.WebhooksExtensions.ConnectToAllowedAsync(context, allowPrivate, cancellationToken),
                };
            });
        return builder;
    }
}
