using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AspireLlm.ServiceTests.Gateway;

internal static class ChatRequests
{
    public static JsonObject Body(string content = "Hello there", string model = "gpt-4o-mini", bool stream = false) => new()
    {
        ["model"] = model,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = content }),
        ["stream"] = stream,
    };

    public static Task<HttpResponseMessage> PostChatAsync(this HttpClient client, JsonNode body, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    public static Task<HttpResponseMessage> PostRawAsync(this HttpClient client, byte[] body) =>
        client.PostAsync("/v1/chat/completions", new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } });

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>The data lines of an SSE body, in order.</summary>
    public static async Task<List<string>> ReadEventsAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return [.. text.Split('\n').Where(line => line.StartsWith("data: ", StringComparison.Ordinal)).Select(line => line["data: ".Length..])];
    }

    public static async Task<JsonElement> ErrorOf(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
}
