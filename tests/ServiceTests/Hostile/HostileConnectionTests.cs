using System.Text;

namespace AspireLlm.ServiceTests.Hostile;

/// <summary>
/// What a client does with a connection, not with a body: oversized uploads, connection reuse after a
/// 413, and headers or bodies trickled to hold a connection. Kestrel's real sockets, no test server.
/// </summary>
[Collection(HostileCollection.Name)]
public sealed class HostileConnectionTests(HostileApi api)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    private string Post(string path, long contentLength, string? extraHeaders = null) =>
        $"POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {api.TenantKey}\r\nContent-Type: application/json\r\n" +
        $"Content-Length: {contentLength}\r\n{extraHeaders}\r\n";

    [Fact]
    public async Task A_body_declared_somewhat_too_large_is_drained_and_the_413_read_on_a_connection_that_stays_usable()
    {
        using var raw = await RawHttp.ConnectAsync(api.BaseAddress);
        var body = new byte[2 * HostileApi.MaxBodyBytes];
        Array.Fill(body, (byte)' ');

        await raw.SendAsync(Post("/v1/chat/completions", body.Length));
        Assert.True(await raw.TrySendAsync(body));
        var refused = await raw.ReadResponseAsync(Bound);

        Assert.Equal(413, refused!.Status);
        Assert.Contains("\"error\"", refused.Body, StringComparison.Ordinal);

        // The same connection carries the next request, as a keep-alive client (the OpenAI SDKs) expects.
        await raw.SendAsync("GET /v1/models HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + api.TenantKey + "\r\n\r\n");
        Assert.Equal(200, (await raw.ReadResponseAsync(Bound))!.Status);
    }

    [Fact]
    public async Task A_body_declared_far_too_large_gets_a_413_that_says_the_connection_closes()
    {
        using var raw = await RawHttp.ConnectAsync(api.BaseAddress);

        await raw.SendAsync(Post("/v1/jobs", 100 * HostileApi.MaxBodyBytes));
        var refused = await raw.ReadResponseAsync(Bound);

        Assert.Equal(413, refused!.Status);
        Assert.Equal("close", refused.Headers["Connection"], ignoreCase: true);
        Assert.Contains("\"status\":413", refused.Body, StringComparison.Ordinal);
        Assert.True(await raw.ClosedWithinAsync(Bound));
    }

    [Fact]
    public async Task A_chunked_body_that_grows_past_the_limit_gets_a_413_and_a_closed_connection()
    {
        using var raw = await RawHttp.ConnectAsync(api.BaseAddress);
        await raw.SendAsync($"POST /v1/embeddings HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {api.TenantKey}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        var chunk = Encoding.ASCII.GetBytes($"{64 * 1024:x}\r\n{new string('x', 64 * 1024)}\r\n");
        for (var sent = 0L; sent <= 2 * HostileApi.MaxBodyBytes && await raw.TrySendAsync(chunk); sent += 64 * 1024)
        {
        }

        var refused = await raw.ReadResponseAsync(Bound);

        Assert.Equal(413, refused!.Status);
        Assert.Equal("close", refused.Headers["Connection"], ignoreCase: true);
        Assert.True(await raw.ClosedWithinAsync(Bound));
    }

    [Fact]
    public async Task Headers_trickled_without_an_end_lose_the_connection_after_the_headers_timeout()
    {
        using var raw = await RawHttp.ConnectAsync(api.BaseAddress);
        await raw.SendAsync("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n");

        // RequestHeadersTimeoutSeconds is 2 here (10 by default).
        Assert.True(await raw.ClosedWithinAsync(Bound));
        Assert.Empty(api.HealthProblems);
    }

    [Fact]
    public async Task A_body_trickled_below_the_minimum_rate_loses_the_connection()
    {
        using var raw = await RawHttp.ConnectAsync(api.BaseAddress);
        await raw.SendAsync(Post("/v1/chat/completions", 100_000));

        // One byte every 200 ms is 5 B/s, far below the 240 B/s minimum; the grace period here is 2 s.
        var closed = false;
        for (var i = 0; i < 75 && !closed; i++)
        {
            closed = !await raw.TrySendAsync("{"u8.ToArray()) || await raw.ClosedWithinAsync(TimeSpan.FromMilliseconds(200));
        }

        Assert.True(closed, "the server kept a connection whose body came at 5 B/s for 15 s");
    }
}
