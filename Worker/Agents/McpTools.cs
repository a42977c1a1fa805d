using System.Collections.Concurrent;
using System.Text;
using AspireLlm.Orchestration.Agents;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AspireLlm.Worker.Agents;

/// <summary>
/// The tools of the MCP servers in <c>Agents:McpServers</c>, through the ModelContextProtocol client:
/// one client per server, made on first use and made again after it fails; each server's tool list is
/// kept for a minute. A server that cannot be reached offers no tools meanwhile (the agent runs with
/// the others), and a call to it fails as that call's error, not the task's.
/// </summary>
internal sealed partial class McpTools(IOptions<AgentOptions> options, ILoggerFactory loggerFactory, TimeProvider timeProvider, ILogger<McpTools> logger)
    : IAsyncDisposable
{
    private static readonly TimeSpan ListFor = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Lazy<Task<McpClient>>> _clients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (IReadOnlyList<McpClientTool> Tools, DateTimeOffset Until)> _lists = new(StringComparer.Ordinal);

    /// <summary>The declarations of server <paramref name="server"/>'s tools, named <c>{server}_{tool}</c>.</summary>
    public async Task<IReadOnlyList<AITool>> DeclarationsAsync(string server, CancellationToken cancellationToken)
    {
        try
        {
            var now = timeProvider.GetUtcNow();
            if (!_lists.TryGetValue(server, out var cached) || cached.Until <= now)
            {
                var client = await ClientAsync(server, cancellationToken);
                cached = ([.. await client.ListToolsAsync(cancellationToken: cancellationToken)], now + ListFor);
                _lists[server] = cached;
            }

            return [.. cached.Tools.Select(tool => AIFunctionFactory.CreateDeclaration($"{server}_{tool.Name}", tool.Description, tool.JsonSchema))];
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogUnavailable(logger, server, exception);
            Forget(server);
            return [];
        }
    }

    public async Task<ToolResult> CallAsync(string server, string tool, IDictionary<string, object?>? arguments, CancellationToken cancellationToken)
    {
        try
        {
            var client = await ClientAsync(server, cancellationToken);
            var result = await client.CallToolAsync(tool, arguments?.AsReadOnly(), cancellationToken: cancellationToken);
            var text = new StringBuilder();
            foreach (var block in result.Content)
            {
                text.Append(block is TextContentBlock textBlock ? textBlock.Text : $"[{block.Type} content]").Append('\n');
            }

            return new ToolResult(text.ToString().TrimEnd('\n'), result.IsError == true);
        }
        catch (McpProtocolException exception)
        {
            // The server answered, with an error (an unknown tool, bad arguments): the connection is fine
            // and stays for the other tasks using it; the error is this call's result.
            LogCallFailed(logger, server, tool, exception);
            return ToolResult.Error($"The tool {server}_{tool} failed: {exception.Message}");
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogCallFailed(logger, server, tool, exception);
            Forget(server);
            return ToolResult.Error($"The tool {server}_{tool} could not be called ({exception.GetType().Name}).");
        }
    }

    private Task<McpClient> ClientAsync(string server, CancellationToken cancellationToken)
    {
        if (!options.Value.McpServers.TryGetValue(server, out var settings) || settings.Endpoint is null)
        {
            throw new InvalidOperationException($"No MCP server '{server}' is configured.");
        }

        var lazy = _clients.GetOrAdd(server, _ => new Lazy<Task<McpClient>>(() => McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions { Endpoint = settings.Endpoint, Name = server }, loggerFactory),
            loggerFactory: loggerFactory, cancellationToken: CancellationToken.None)));
        return lazy.Value.WaitAsync(cancellationToken);
    }

    private void Forget(string server)
    {
        _lists.TryRemove(server, out _);
        if (_clients.TryRemove(server, out var lazy) && lazy.IsValueCreated)
        {
            _ = DisposeQuietlyAsync(lazy.Value);
        }
    }

    private static async Task DisposeQuietlyAsync(Task<McpClient> client)
    {
        try
        {
            await (await client).DisposeAsync();
        }
        catch (Exception)
        {
            // It failed already; there is nothing left to close.
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var lazy in _clients.Values.Where(lazy => lazy.IsValueCreated))
        {
            await DisposeQuietlyAsync(lazy.Value);
        }
    }

    [LoggerMessage(3701, LogLevel.Warning, "MCP server {Server} is unavailable; its tools are left out for now.")]
    private static partial void LogUnavailable(ILogger logger, string server, Exception exception);

    [LoggerMessage(3702, LogLevel.Warning, "Calling tool {Tool} of MCP server {Server} failed.")]
    private static partial void LogCallFailed(ILogger logger, string server, string tool, Exception exception);
}
