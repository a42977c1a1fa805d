using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AspireLlm.ServiceTests.Api;

internal static class JobRequests
{
    public static JsonObject Chat(string content = "Hello there", string model = "gpt-4o-mini") => new()
    {
        ["kind"] = "chat.completion",
        ["input"] = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = content }),
            // Not 0: a deterministic request may be answered by the exact cache, and most tests
            // need the model call itself to happen (its timing, its faults).
            ["temperature"] = 0.7,
        },
    };

    public static async Task<HttpResponseMessage> PostJobAsync(this HttpClient client, JsonNode body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs")
        {
            Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request);
    }

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>();
}
