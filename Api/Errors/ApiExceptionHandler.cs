using Microsoft.AspNetCore.Diagnostics;
using Npgsql;
using StackExchange.Redis;

namespace AspireLlm.Api.Errors;

/// <summary>
/// The one place an exception that escaped an endpoint becomes a response, in the route family's
/// shape. Failures of the stores we cannot serve without are 503 with <c>Retry-After</c>, so a client
/// backs off instead of treating an outage as its own fault (every statement that can get here is
/// atomic, so nothing is left half-written); a value the database refuses as data is the caller's
/// 400; anything else is a 500 that names the request id and is logged, with no detail leaked.
/// </summary>
internal sealed partial class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (context.Response.HasStarted)
        {
            return false;
        }

        switch (exception)
        {
            case BadHttpRequestException bad:
                if (bad.StatusCode == StatusCodes.Status413PayloadTooLarge)
                {
                    // The body was not read to its end: the connection cannot carry another request.
                    context.Response.Headers.Connection = "close";
                }

                await ErrorResponses.WriteAsync(context, bad.StatusCode, "Bad request", bad.Message);
                return true;
            case PostgresException { SqlState: var state } when state.StartsWith("22", StringComparison.Ordinal):
                // Class 22 is "data exception": a value the caller sent that the database cannot store.
                await ErrorResponses.WriteAsync(context, StatusCodes.Status400BadRequest, "Bad request",
                    "A value in the request cannot be stored (invalid characters or out of range).", "invalid_value");
                return true;
            case NpgsqlException or RedisException or TimeoutException:
                LogDependencyDown(logger, exception.GetType().Name, exception);
                await ErrorResponses.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "A backing store is unavailable",
                    "The service cannot reach its data store. Nothing was written; retry after the indicated delay.", "store_unavailable", TimeSpan.FromSeconds(5));
                return true;
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                return true; // the client left; there is nobody to answer
            default:
                var requestId = ErrorResponses.RequestId(context);
                LogUnexpected(logger, requestId, exception);
                await ErrorResponses.WriteAsync(context, StatusCodes.Status500InternalServerError, "Internal error",
                    $"The server had an error processing the request. Retry it, or quote request id {requestId} to support.", "internal_error");
                return true;
        }
    }

    [LoggerMessage(2201, LogLevel.Error, "A backing store failed ({ExceptionType}); answering 503.")]
    private static partial void LogDependencyDown(ILogger logger, string exceptionType, Exception exception);

    [LoggerMessage(2202, LogLevel.Error, "Request {RequestId} failed unexpectedly; answering 500.")]
    private static partial void LogUnexpected(ILogger logger, string requestId, Exception exception);
}
