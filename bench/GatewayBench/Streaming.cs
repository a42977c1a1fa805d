using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace AspireLlm.GatewayBench;

/// <summary>Time to the first chunk that carries answer text, the latency a streaming user sees.</summary>
internal static class Streaming
{
    public static async Task<double> TimeToFirstContentAsync(Uri url, JsonObject request, string alias, string key)
    {
        using var client = new HttpClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var body = request.DeepClone().AsObject();
        body["model"] = alias;
        body["stream"] = true;
        var json = body.ToJsonString();
        var samples = new List<double>();
        for (var i = 0; i < 250; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await client.SendAsync(
                new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(json, Encoding.UTF8, "application/json") },
                HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync() is { } line && !HasContent(line))
            {
            }

            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            await reader.ReadToEndAsync();
            if (i >= 50)
            {
                samples.Add(elapsed); // the first 50 warm up
            }
        }

        samples.Sort();
        return samples[samples.Count / 2];
    }

    private static bool HasContent(string line) =>
        line.StartsWith("data: {", StringComparison.Ordinal) && line.Contains("\"content\":\"", StringComparison.Ordinal)
        && !line.Contains("\"content\":\"\"", StringComparison.Ordinal);
}
