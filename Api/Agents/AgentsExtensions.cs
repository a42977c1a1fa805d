using AspireLlm.Orchestration.Agents;

namespace AspireLlm.Api.Agents;

internal static class AgentsExtensions
{
    /// <summary>Agent sessions over WebSocket: the Api relays; the agents run in the Workers as jobs of kind <c>agent</c>.</summary>
    public static IHostApplicationBuilder AddAgents(this IHostApplicationBuilder builder)
    {
        builder.AddAgentOptions();
        builder.Services.AddSingleton<AgentTasks>();
        builder.Services.AddSingleton<AgentTickets>();
        builder.Services.AddSingleton<AgentAttachments>();
        builder.Services.AddHostedService(services => services.GetRequiredService<AgentAttachments>());
        return builder;
    }

    public static IEndpointRouteBuilder MapAgentsEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/agents").WithTags("Agents");
        group.MapPost("/tickets", AgentTickets.CreateForCallerAsync).RequireAuthorization().WithName("CreateAgentTicket");
        // Authenticated in the handler: a browser's upgrade carries a ticket instead of a header.
        group.MapGet("/ws", AgentSocketEndpoint.AcceptAsync).AllowAnonymous().WithName("AgentSession");
        return routes;
    }
}
