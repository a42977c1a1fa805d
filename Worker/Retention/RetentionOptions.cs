using System.ComponentModel.DataAnnotations;

namespace AspireLlm.Worker.Retention;

/// <summary>How long finished jobs keep their content, bound from <c>Retention</c>.</summary>
public sealed class RetentionOptions
{
    public const string SectionName = "Retention";

    /// <summary>
    /// Days after a job finishes until its content (input, result, error message, batch items, webhook
    /// body) is erased; its metadata and usage ledger row stay. 0 keeps content for ever.
    /// </summary>
    [Range(0, 3650)]
    public int JobContentDays { get; set; } = 30;

    /// <summary>How often each Worker looks for jobs past retention.</summary>
    [Range(1, 1440)]
    public int PurgeIntervalMinutes { get; set; } = 10;
}
