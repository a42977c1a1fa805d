using System.Net;

namespace AspireLlm.Orchestration.Providers;

/// <summary>
/// A provider answered with an error status. Raised below the provider SDKs (see
/// <see cref="ProviderErrorHandler"/>) so that every provider's failures look the same to the
/// retry, breaker and fallback decisions, Retry-After included.
/// </summary>
public sealed class ProviderHttpException(HttpStatusCode status, TimeSpan? retryAfter, string? errorCode, string message)
    : Exception(message)
{
    public HttpStatusCode Status { get; } = status;

    /// <summary>The provider's Retry-After, when it sent one.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>The provider's machine-readable error code or type, e.g. <c>context_length_exceeded</c>.</summary>
    public string? ErrorCode { get; } = errorCode;
}
