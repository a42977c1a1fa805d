using System.Security.Cryptography;
using System.Text;

namespace AspireLlm.Orchestration.Jobs.Webhooks;

/// <summary>
/// How webhook bodies are signed: <c>Webhook-Signature: v1=hex(HMAC-SHA256(secret, "{timestamp}.{body}"))</c>
/// with the Unix timestamp in <c>Webhook-Timestamp</c>. Including the timestamp lets a receiver refuse
/// replays of an old delivery; the job id in <c>Webhook-Id</c> lets it drop a redelivery it already handled.
/// </summary>
public static class WebhookSignature
{
    public const string IdHeader = "Webhook-Id";
    public const string TimestampHeader = "Webhook-Timestamp";
    public const string SignatureHeader = "Webhook-Signature";

    public static string Sign(string secret, long timestamp, string body)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}"));
        return "v1=" + Convert.ToHexString(mac).ToLowerInvariant();
    }

    /// <summary>What a receiver does: same signature, and a timestamp within the tolerance of now.</summary>
    public static bool Verify(string secret, long timestamp, string body, string signature, DateTimeOffset now, TimeSpan tolerance) =>
        Math.Abs(now.ToUnixTimeSeconds() - timestamp) <= tolerance.TotalSeconds
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(secret, timestamp, body)), Encoding.ASCII.GetBytes(signature));
}
