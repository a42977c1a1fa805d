using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.Deploy;

/// <summary>The Api processes and clients the drain and rolling restart tests share.</summary>
internal static class RollingClients
{
    public const string AdminKey = "rolling-admin-key-0123456789abcdef";

    /// <summary>The Api: a short drain delay (the proxy polls readiness every 200 ms), a slow simulator so streams are in flight.</summary>
    public static Dictionary<string, string> ApiSettings(int tokensPerSecond) => new()
    {
        ["Admin:BootstrapKey"] = AdminKey,
        ["Shutdown:DrainDelaySeconds"] = "2",
        ["Shutdown:GraceSeconds"] = "20",
        ["Orchestration:Simulator:TokensPerSecond"] = tokensPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public static Dictionary<string, string> WorkerSettings => new()
    {
        // About 5 s per job: runs overlap each Worker's stop, and event streams overlap each Api's drain.
        ["Orchestration:Simulator:TokensPerSecond"] = "4",
        ["Worker:ShutdownGraceSeconds"] = "20",
        ["Worker:DispatchSweepSeconds"] = "1",
    };

    public static HttpClient Client(Uri baseAddress, SocketsHttpHandler? handler = null)
    {
        var client = new HttpClient(handler ?? new SocketsHttpHandler(), disposeHandler: true) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    public sealed record StreamResult(string Content, bool Done, Exception? Error);

    /// <summary>
    /// One streamed chat completion of "Hello there", read to its end: its text, whether it ended with
    /// <c>[DONE]</c>, and the error if the connection broke. <paramref name="onFirstChunk"/> runs once the first
    /// content chunk has arrived.
    /// </summary>
    public static async Task<StreamResult> StreamChatAsync(HttpClient client, Func<Task>? onFirstChunk = null, bool closeConnection = false)
    {
        var content = new StringBuilder();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent(
                    """{"model":"gpt-4o-mini","stream":true,"temperature":0.7,"messages":[{"role":"user","content":"Hello there"}]}""",
                    Encoding.UTF8, "application/json"),
            };
            request.Headers.ConnectionClose = closeConnection;
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (!response.IsSuccessStatusCode)
            {
                return new StreamResult("", false, new HttpRequestException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}"));
            }

            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var first = true;
            while (await reader.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    continue;
                }

                var data = line["data: ".Length..];
                if (data == "[DONE]")
                {
                    return new StreamResult(content.ToString(), true, null);
                }

                using var chunk = JsonDocument.Parse(data);
                if (chunk.RootElement.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
                    && choices[0].GetProperty("delta").TryGetProperty("content", out var text) && text.GetString() is { Length: > 0 } piece)
                {
                    content.Append(piece);
                    if (first && onFirstChunk is not null)
                    {
                        first = false;
                        await onFirstChunk();
                    }
                }
            }

            return new StreamResult(content.ToString(), false, null);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or TaskCanceledException)
        {
            return new StreamResult(content.ToString(), false, exception);
        }
    }

    /// <summary>True when the stream is the whole golden answer, ended by [DONE].</summary>
    public static bool IsWhole(StreamResult result) => result.Error is null && result.Done && result.Content == SimulatorGolden.HelloThere;

    /// <summary>
    /// Follows a job's events as an EventSource does: when the stream ends without the job's final status,
    /// reconnects with the last id seen. Returns every event id received, in order, and how many connections it took.
    /// </summary>
    public static async Task<(List<long> Ids, string? FinalStatus, int Connections)> FollowJobAsync(HttpClient client, Guid id, TimeSpan timeout)
    {
        var ids = new List<long>();
        var deadline = DateTime.UtcNow + timeout;
        var connections = 0;
        while (DateTime.UtcNow < deadline)
        {
            connections++;
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}/events");
            request.Headers.ConnectionClose = true;
            if (ids.Count > 0)
            {
                request.Headers.Add("Last-Event-ID", ids[^1].ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
            while (await reader.ReadAsync() is { } item)
            {
                ids.Add(item.Id);
                if (item.Type == "status" && item.Data.GetProperty("status").GetString() is { } status && status is "completed" or "failed" or "cancelled")
                {
                    return (ids, status, connections);
                }
            }

            await Task.Delay(200); // the stream's retry hint is 1 s; sooner is fine for a test
        }

        return (ids, null, connections);
    }
}
