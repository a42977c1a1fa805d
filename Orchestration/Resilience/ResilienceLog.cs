using Microsoft.Extensions.Logging;

namespace AspireLlm.Orchestration.Resilience;

internal static partial class ResilienceLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Retrying deployment {Deployment} after {Failure}: attempt {Attempt} in {Delay}.")]
    public static partial void RetryingDeployment(this ILogger logger, string deployment, FailureKind failure, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Circuit of deployment {Deployment} is now {State} (from {From}; learnt from another replica: {Remote}).")]
    public static partial void BreakerChanged(this ILogger logger, string deployment, BreakerState state, BreakerState from, bool remote);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Model {Alias}: skipping deployment {Deployment} ({Reason}). {Detail}")]
    public static partial void FallingBack(this ILogger logger, string alias, string deployment, string reason, string detail);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Shared circuit state is unavailable; circuits are per replica until Redis answers again.")]
    public static partial void SharedBreakerUnavailable(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Model {Alias}: stream from deployment {Deployment} failed after its first chunk; ending it with an error.")]
    public static partial void StreamInterrupted(this ILogger logger, string alias, string deployment, Exception exception);
}
