using System.Net.Http.Headers;
using System.Text;
using AspireLlm.Orchestration.Agents;
using AspireLlm.Orchestration.Jobs.Webhooks;
using Microsoft.Extensions.Options;

namespace AspireLlm.Worker.Agents;

/// <summary>
/// The <c>http_get</c> tool: fetches a URL from the agent's allowed hosts. The same guard as webhooks
/// applies twice: the URL is checked before the request (scheme, credentials, literal private
/// addresses), and the connection only goes to an allowed address (a public name that resolves to a
/// private address is refused). No redirects are followed (a redirect could leave the allow-list), no
/// proxy is used (the check would vet the proxy), and only text is handed back, cut at a bounded size.
/// </summary>
internal sealed class HttpGetTool(IHttpClientFactory httpClients, IOptions<AgentOptions> options)
{
    public const string HttpClientName = "agents-http-get";

    public static readonly System.Text.Json.JsonElement Schema = System.Text.Json.JsonDocument.Parse("""
        {"type":"object","properties":{"url":{"type":"string","description":"An absolute http or https URL on one of the allowed hosts."}},"required":["url"],"additionalProperties":false}
        """).RootElement.Clone();

    public async Task<ToolResult> GetAsync(AgentDefinition agent, IDictionary<string, object?>? arguments, CancellationToken cancellationToken)
    {
        var url = arguments?.TryGetValue("url", out var value) == true ? value?.ToString() : null;
        if (string.IsNullOrEmpty(url))
        {
            return ToolResult.Error("http_get needs a 'url'.");
        }

        if (WebhookDestination.Check(url, options.Value.AllowPrivateNetworks) is { } refused)
        {
            return ToolResult.Error(refused.Replace("webhook URL", "URL", StringComparison.Ordinal));
        }

        var uri = new Uri(url);
        if (!agent.AllowedHosts.Any(host => HostMatches(host, uri.IdnHost)))
        {
            return ToolResult.Error($"The host {uri.IdnHost} is not on this agent's allowed hosts.");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.HttpGetTimeoutSeconds));
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/*"));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            if (status is >= 300 and < 400)
            {
                return ToolResult.Error($"HTTP {status}: redirected to {response.Headers.Location} (redirects are not followed).");
            }

            var mediaType = response.Content.Headers.ContentType?.MediaType ?? "";
            if (!(mediaType.StartsWith("text/", StringComparison.OrdinalIgnoreCase) || mediaType.Contains("json", StringComparison.OrdinalIgnoreCase)
                  || mediaType.Contains("xml", StringComparison.OrdinalIgnoreCase)))
            {
                return ToolResult.Error($"HTTP {status}: the response is {(mediaType.Length > 0 ? mediaType : "of no stated type")}, not text.");
            }

            var body = await ReadBoundedAsync(response, options.Value.HttpGetMaxBytes, timeout.Token);
            return new ToolResult($"HTTP {status}\n{body}", IsError: status >= 400);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ToolResult.Error($"The request to {uri.IdnHost} timed out.");
        }
        catch (HttpRequestException exception)
        {
            // The kind of failure only: messages can carry the network's internals.
            return ToolResult.Error($"The request to {uri.IdnHost} failed ({exception.HttpRequestError}).");
        }
    }

    public static bool HostMatches(string allowed, string host) =>
        allowed.StartsWith("*.", StringComparison.Ordinal)
            ? host.EndsWith(allowed[1..], StringComparison.OrdinalIgnoreCase)
            : string.Equals(allowed, host, StringComparison.OrdinalIgnoreCase);

    private static async Task<string> ReadBoundedAsync(HttpResponseMessage response, int maxBytes, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[maxBytes + 1];
        var read = 0;
        int count;
        while (read < buffer.Length && (count = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken)) > 0)
        {
            read += count;
        }

        var text = Encoding.UTF8.GetString(buffer, 0, Math.Min(read, maxBytes));
        return read > maxBytes ? text + $"\n[cut at {maxBytes} bytes]" : text;
    }
}

/// <summary>What a tool call returned, as text for the model, and whether it failed.</summary>
internal sealed record ToolResult(string Text, bool IsError)
{
    public static ToolResult Error(string message) => new(message, true);
}
