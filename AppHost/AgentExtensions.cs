namespace AspireLlm.AppHost;

internal static class AgentExtensions
{
    /// <summary>
    /// Gives the Workers the sample MCP server (<c>Agents:McpServers:sample</c>) and lets the default
    /// <c>assistant</c> agent use its tools (<c>sample_*</c>) beside <c>ask_user</c> and <c>http_get</c>.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithSampleMcpTools(
        this IResourceBuilder<ProjectResource> worker, IResourceBuilder<ProjectResource> mcpServer) =>
        worker
            .WithReference(mcpServer).WaitFor(mcpServer)
            .WithEnvironment("Agents__McpServers__sample__Endpoint",
                ReferenceExpression.Create($"{mcpServer.GetEndpoint("http")}{McpSamplePath}"))
            .WithEnvironment("Agents__assistant__Tools__0", "ask_user")
            .WithEnvironment("Agents__assistant__Tools__1", "http_get")
            .WithEnvironment("Agents__assistant__Tools__2", "sample_*");

    private const string McpSamplePath = "/mcp";
}
