using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace AspireLlm.Tests.Shared.FakeProviders;

/// <summary>
/// An in-process, scriptable stand-in for OpenAI and Anthropic, speaking both wire protocols on one loopback port,
/// so tests drive the real provider SDKs without a network. Replies are taken from a script, one per request, in order;
/// every request is recorded.
/// </summary>
public sealed class FakeProviderServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<FakeReply> _script = new();
    private readonly List<RecordedRequest> _requests = [];
    private readonly Channel<RecordedRequest> _abortedRequests = Channel.CreateUnbounded<RecordedRequest>();
    private volatile FakeReply _default = FakeReply.Text("Hello from the fake provider.");

    private FakeProviderServer(WebApplication app)
    {
        _app = app;
        _app.Run(HandleAsync);
    }

    /// <summary>Where the server listens, e.g. http://127.0.0.1:12345/ (Anthropic SDK base URL, without the slash).</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>What to give the OpenAI SDK as its Endpoint.</summary>
    public Uri OpenAiEndpoint => new(BaseAddress, "v1/");

    /// <summary>The reply used when the script is empty.</summary>
    public FakeReply Default
    {
        get => _default;
        set => _default = value;
    }

    /// <summary>A snapshot of the requests received so far, in arrival order.</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public int RequestCount
    {
        get
        {
            lock (_requests)
            {
                return _requests.Count;
            }
        }
    }

    public static async Task<FakeProviderServer> StartAsync()
    {
        // The empty builder reads no appsettings, environment variables or command line, so nothing in the test
        // process (ASPNETCORE_URLS, Aspire's variables) can move the port or turn on logging.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
            // HTTP/1.1 only: that is what the SDKs speak to plain http, and it makes a cut connection look the same every time.
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1));
        var server = new FakeProviderServer(builder.Build());
        await server._app.StartAsync();
        var addresses = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()
            ?? throw new InvalidOperationException("Kestrel did not report the port it bound.");
        var address = addresses.Addresses.First();
        server.BaseAddress = new Uri(address.TrimEnd('/') + "/");
        return server;
    }

    /// <summary>Adds replies to the script; each request takes the next one, in order.</summary>
    public void Enqueue(params FakeReply[] replies)
    {
        foreach (var reply in replies)
        {
            _script.Enqueue(reply);
        }
    }

    /// <summary>
    /// The next request whose client went away while the fake was still replying (each aborted request is handed out once).
    /// Throws <see cref="TimeoutException"/> when none comes in time.
    /// </summary>
    public async Task<RecordedRequest> WaitForAbortedRequestAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            return await _abortedRequests.Reader.ReadAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"No request to the fake provider was aborted within {timeout}.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Replies still waiting (slow or stalled streams) must not hold the test run for the default 30 s grace period.
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(grace.Token);
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext http)
    {
        var protocol = FakeProtocols.ForPath(http.Request.Path.Value ?? "");
        if (protocol is null || !HttpMethods.IsPost(http.Request.Method))
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            await http.Response.WriteAsync($"The fake provider serves POST .../chat/completions and .../v1/messages, not {http.Request.Method} {http.Request.Path}.");
            return;
        }

        var request = await RecordAsync(http, protocol);
        var reply = _script.TryDequeue(out var scripted) ? scripted : Default;
        // Both providers name every response; SDKs surface it (e.g. AnthropicApiException.RequestID) for logs.
        http.Response.Headers[protocol == FakeProtocols.OpenAi ? "x-request-id" : "request-id"] = WireResponse.NewId("req_");
        IWireFormat wire = protocol == FakeProtocols.OpenAi
            ? new OpenAiWireFormat(http.Response, request)
            : new AnthropicWireFormat(http.Response, request);
        var context = new ReplyContext(http, wire, request.Stream);
        try
        {
            await reply.PlayAsync(context);
        }
        catch (Exception) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client left mid-reply; waits and writes fail with cancellation or I/O errors. Recorded below.
        }

        if (http.RequestAborted.IsCancellationRequested && !context.CutByScript)
        {
            request.Aborted = true;
            _abortedRequests.Writer.TryWrite(request);
        }
    }

    private async Task<RecordedRequest> RecordAsync(HttpContext http, string protocol)
    {
        var body = await ReadJsonAsync(http);
        var headers = http.Request.Headers.ToDictionary(
            header => header.Key, header => header.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var stream = body.ValueKind == JsonValueKind.Object
            && body.TryGetProperty("stream", out var flag)
            && flag.ValueKind == JsonValueKind.True;
        var request = new RecordedRequest(protocol, http.Request.Path.Value ?? "", headers, body, stream);
        lock (_requests)
        {
            _requests.Add(request);
        }

        return request;
    }

    /// <summary>The body as JSON, or an Undefined element when it is not JSON: recorded all the same, for the test to see.</summary>
    private static async Task<JsonElement> ReadJsonAsync(HttpContext http)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return default;
        }
    }
}
