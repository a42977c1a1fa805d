using Microsoft.AspNetCore.Diagnostics;
using Npgsql;
using StackExchange.Redis;

namespace AspireLlm.Api.Errors;

/// <summary>
/// Maps failures of the stores we cannot serve without to 503 with <c>Retry-After</c>, so a client
/// backs off and retries instead of treating an outage as its own fault. Every statement that can get
/// here is atomic, so nothing is left half-written.
/// </summary>
internal sealed partial class DependencyExceptionHandler(IProblemDetailsService problems, ILogger<DependencyExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, "Bad request"),
            NpgsqlException or RedisException or TimeoutException => (StatusCodes.Status503ServiceUnavailable, "A backing store is unavailable"),
            _ => (0, ""),
        };
        if (status == 0)
        {
            return false;
        }

        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            LogDependencyDown(logger, exception.GetType().Name, exception);
            context.Response.Headers.RetryAfter = "5";
        }

        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails =
            {
                Status = status,
                Title = title,
                Detail = status == StatusCodes.Status503ServiceUnavailable
                    ? "The service cannot reach its data store. Nothing was written; retry after the indicated delay."
                    : exception.Message,
            },
        });
    }

    [LoggerMessage(3001, LogLevel.Error, "A backing store failed ({ExceptionType}); answering 503.")]
    private static partial void LogDependencyDown(ILogger logger, string exceptionType, Exception exception);
}
