using System.ClientModel;
using System.Net;
using System.Runtime.CompilerServices;
using Anthropic.Exceptions;
using AspireLlm.Orchestration.Providers;

namespace AspireLlm.Orchestration.Resilience;

/// <summary>
/// Decides what a provider failure means: worth another attempt (rate limits, server errors,
/// timeouts, broken connections), a sign the deployment is unwell (the same set: they feed the
/// breaker), or the request's own fault (400, 401, 403, 404, 422, content filter), which no retry
/// or other deployment would fix.
/// </summary>
public static class FailureClassifier
{
    public static FailureKind Classify(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case AttemptTimeoutException:
                case TimeoutException:
                    return FailureKind.Timeout;
                case ProviderHttpException http:
                    return ByStatus(http.Status);
                case ClientResultException { Status: > 0 } result:
                    return ByStatus((HttpStatusCode)result.Status);
                case Exception other when IsAnthropics(other) && AnthropicStatusOf(other) is { } anthropicStatus:
                    return ByStatus(anthropicStatus);
                case HttpRequestException { StatusCode: { } status }:
                    return ByStatus(status);
                case HttpRequestException:
                case IOException:
                    return FailureKind.Connection;
            }
        }

        return FailureKind.Other;
    }

    // Looked at by name first, then in a method of its own that is never inlined: only an Anthropic
    // failure loads the Anthropic SDK, so a process with no Anthropic deployment never does (about 5 MiB).
    private static bool IsAnthropics(Exception exception) =>
        exception.GetType().Namespace?.StartsWith("Anthropic", StringComparison.Ordinal) == true;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static HttpStatusCode? AnthropicStatusOf(Exception exception) =>
        exception is AnthropicApiException anthropic ? anthropic.StatusCode : null;

    /// <summary>Failures another attempt or deployment may not hit.</summary>
    public static bool IsTransient(FailureKind kind) =>
        kind is FailureKind.RateLimited or FailureKind.ServerError or FailureKind.Timeout or FailureKind.Connection;

    /// <summary>The provider's Retry-After, if the failure carries one.</summary>
    public static TimeSpan? RetryAfterOf(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is ProviderHttpException { RetryAfter: { } retryAfter })
            {
                return retryAfter;
            }
        }

        return null;
    }

    private static FailureKind ByStatus(HttpStatusCode status) => (int)status switch
    {
        429 => FailureKind.RateLimited,
        408 => FailureKind.Timeout,
        >= 500 => FailureKind.ServerError,
        401 or 403 => FailureKind.Unauthorized,
        404 => FailureKind.NotFound,
        _ => FailureKind.BadRequest,
    };
}

public enum FailureKind
{
    /// <summary>Not a provider failure we recognise; treated as the request's problem, never retried.</summary>
    Other,
    RateLimited,
    ServerError,
    Timeout,
    Connection,

    /// <summary>The deployment's key is wrong or lacks access: another deployment may still serve the call.</summary>
    Unauthorized,

    /// <summary>The deployment's model or endpoint does not exist: another deployment may still serve the call.</summary>
    NotFound,

    /// <summary>400, 422 and the like: the request itself was refused, everywhere alike.</summary>
    BadRequest,
}
