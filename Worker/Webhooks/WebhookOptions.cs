using System.ComponentModel.DataAnnotations;

namespace AspireLlm.Worker.Webhooks;

/// <summary>Webhook delivery, bound from <c>Webhooks</c>.</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "Webhooks";

    /// <summary>Allow destinations on private, loopback and link-local addresses (tests, on-premises receivers).</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>A delivery still failing this long after the job ended is given up.</summary>
    [Range(1, 24 * 7)]
    public int MaxAgeHours { get; set; } = 24;

    [Range(1, 120)]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>First retry delay; each retry doubles it (with jitter) up to <see cref="MaxBackoffSeconds"/>.</summary>
    [Range(1, 3600)]
    public int InitialBackoffSeconds { get; set; } = 5;

    [Range(1, 86_400)]
    public int MaxBackoffSeconds { get; set; } = 3600;

    /// <summary>How often due deliveries are looked for when none was found last time.</summary>
    [Range(50, 60_000)]
    public int PollIntervalMilliseconds { get; set; } = 500;
}
