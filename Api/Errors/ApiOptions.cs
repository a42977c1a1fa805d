using System.ComponentModel.DataAnnotations;

namespace AspireLlm.Api.Errors;

/// <summary>Limits applied to every request, bound from <c>Api</c>.</summary>
public sealed class ApiOptions
{
    public const string SectionName = "Api";

    /// <summary>Largest accepted request body; larger bodies get 413 before they are parsed.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Time a client has to send all its request headers (Kestrel's default is 30 s).</summary>
    [Range(1, 120)]
    public int RequestHeadersTimeoutSeconds { get; set; } = 10;

    /// <summary>Slowest body upload tolerated after the grace period (Kestrel's default rate).</summary>
    [Range(1, 1024 * 1024)]
    public double MinRequestBodyBytesPerSecond { get; set; } = 240;

    /// <summary>How long a body may start slowly before its rate is enforced (Kestrel requires more than 1 s).</summary>
    [Range(2, 60)]
    public int MinRequestBodyGraceSeconds { get; set; } = 5;
}
