using System.Collections.Concurrent;
using AspireLlm.Orchestration.Jobs.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace AspireLlm.ServiceTests.Worker;

/// <summary>A webhook as a receiver gets it.</summary>
public sealed record ReceivedWebhook(string Id, long Timestamp, string Signature, string Body);

/// <summary>
/// A real HTTP receiver on loopback that records every webhook and answers 500 to the first
/// <see cref="FailuresToSend"/> of them, so that retries can be observed.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _failuresToSend;

    private WebhookReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    public int FailuresToSend
    {
        get => _failuresToSend;
        set => _failuresToSend = value;
    }

    public string Url => _app.Urls.Single() + "/hook";

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var receiver = new WebhookReceiver(builder.Build());
        receiver._app.MapPost("/hook", async (HttpRequest request) =>
        {
            var body = await new StreamReader(request.Body).ReadToEndAsync();
            receiver.Received.Enqueue(new ReceivedWebhook(
                request.Headers[WebhookSignature.IdHeader].ToString(),
                long.Parse(request.Headers[WebhookSignature.TimestampHeader].ToString()),
                request.Headers[WebhookSignature.SignatureHeader].ToString(),
                body));
            return Interlocked.Decrement(ref receiver._failuresToSend) >= 0 ? Results.StatusCode(500) : Results.Ok();
        });
        await receiver._app.StartAsync();
        return receiver;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
