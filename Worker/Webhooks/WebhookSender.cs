using System.Diagnostics;
using System.Text;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Webhooks;
using AspireLlm.Worker.Observability;
using Microsoft.Extensions.Options;

namespace AspireLlm.Worker.Webhooks;

/// <summary>
/// Delivers the webhook outbox: signed POSTs, each attempt recorded, retried with exponential backoff
/// and jitter until the receiver answers 2xx or the delivery is older than <c>MaxAgeHours</c>.
/// Delivery is at-least-once (a sender can die after the receiver got the body); receivers drop
/// duplicates by <c>Webhook-Id</c>.
/// </summary>
internal sealed partial class WebhookSender(
    JobStore store, IHttpClientFactory httpClients, IOptions<WebhookOptions> options, TimeProvider timeProvider,
    ILogger<WebhookSender> logger) : BackgroundService
{
    public const string HttpClientName = "webhooks";
    private const int BatchSize = 20;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var idle = TimeSpan.FromMilliseconds(options.Value.PollIntervalMilliseconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            IReadOnlyList<WebhookDelivery> due = [];
            try
            {
                var lease = TimeSpan.FromSeconds(options.Value.TimeoutSeconds * 3);
                due = await store.ClaimDueWebhooksAsync(timeProvider.GetUtcNow(), lease, BatchSize, stoppingToken);
                await Task.WhenAll(due.Select(delivery => DeliverAsync(delivery, stoppingToken)));
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogLoopFailed(logger, exception);
            }

            if (due.Count < BatchSize)
            {
                await Task.Delay(idle, timeProvider, stoppingToken);
            }
        }
    }

    private async Task DeliverAsync(WebhookDelivery delivery, CancellationToken stoppingToken)
    {
        // The delivery is part of the job's trace; the claim above is polling and is not traced.
        using var activity = WorkerTelemetry.StartWebhook(delivery);
        var started = Stopwatch.GetTimestamp();
        int? statusCode = null;
        string? error = null;
        try
        {
            var timestamp = timeProvider.GetUtcNow().ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url)
            {
                Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add(WebhookSignature.IdHeader, $"{delivery.JobId}.{delivery.Run}");
            request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(delivery.Secret, timestamp, delivery.Payload));

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.TimeoutSeconds));
            // Only the status matters; the body is never read, so a hostile receiver cannot make us buffer it.
            using var response = await httpClients.CreateClient(HttpClientName)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            statusCode = (int)response.StatusCode;
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException && !stoppingToken.IsCancellationRequested)
        {
            // Only the kind of failure is recorded: messages can carry the receiver's internals.
            error = exception is OperationCanceledException ? "timeout" : exception.InnerException?.GetType().Name ?? "connection failed";
        }

        var now = timeProvider.GetUtcNow();
        var delivered = statusCode is >= 200 and < 300;
        activity?.SetTag("http.response.status_code", statusCode);
        if (!delivered)
        {
            activity?.SetStatus(ActivityStatusCode.Error, error ?? $"status {statusCode}");
        }

        var next = delivered ? null : NextAttempt(delivery, now);
        await store.RecordWebhookAttemptAsync(delivery, statusCode, error, Stopwatch.GetElapsedTime(started), delivered, next, now, CancellationToken.None);
        if (!delivered)
        {
            LogAttemptFailed(logger, delivery.JobId, delivery.Attempt, statusCode, error, next is null);
        }
    }

    /// <summary>Exponential backoff with full jitter in its upper half; null once the delivery is too old.</summary>
    private DateTimeOffset? NextAttempt(WebhookDelivery delivery, DateTimeOffset now)
    {
        if (now - delivery.CreatedAt >= TimeSpan.FromHours(options.Value.MaxAgeHours))
        {
            return null;
        }

        var exponential = options.Value.InitialBackoffSeconds * Math.Pow(2, Math.Min(delivery.Attempt - 1, 20));
        var capped = Math.Min(exponential, options.Value.MaxBackoffSeconds);
        var jittered = capped / 2 + Random.Shared.NextDouble() * capped / 2;
        return now + TimeSpan.FromSeconds(jittered);
    }

    [LoggerMessage(3501, LogLevel.Warning, "Webhook of job {JobId} attempt {Attempt} failed (status {StatusCode}, {Error}); given up: {GivenUp}.")]
    private static partial void LogAttemptFailed(ILogger logger, Guid jobId, int attempt, int? statusCode, string? error, bool givenUp);

    [LoggerMessage(3502, LogLevel.Warning, "The webhook delivery loop failed; it runs again shortly.")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);
}
