namespace AspireLlm.Orchestration.Admission;

/// <summary>
/// The gate every model call passes after the cache and before any provider: rate limits and
/// budgets. The Api implements it over Redis; the default admits everything.
/// </summary>
public interface IModelAdmission
{
    /// <summary>Reserves what the call may use at worst, or throws <see cref="ModelAdmissionException"/>.</summary>
    ValueTask<IAdmissionLease> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken);
}

/// <summary>What a call may use at worst: its prompt, all the output it asked for, at the dearest deployment's price.</summary>
public sealed record AdmissionRequest(
    string Tenant, string Alias, int EstimatedPromptTokens, int MaxOutputTokens, decimal WorstCaseCost, object? Principal);

/// <summary>A reservation. Settle it with what the call really used; disposing an unsettled lease releases it.</summary>
public interface IAdmissionLease : IAsyncDisposable
{
    ValueTask SettleAsync(long inputTokens, long outputTokens, decimal cost, CancellationToken cancellationToken);
}

/// <summary>The call was refused: a limit or a budget would be exceeded.</summary>
public sealed class ModelAdmissionException(string message, TimeSpan? retryAfter, AdmissionRefusal refusal) : Exception(message)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;

    public AdmissionRefusal Refusal { get; } = refusal;
}

public enum AdmissionRefusal
{
    /// <summary>A requests- or tokens-per-minute limit: waiting for the window helps.</summary>
    RateLimited,

    /// <summary>A daily or monthly budget is spent: waiting a minute does not help.</summary>
    BudgetExhausted,

    /// <summary>The limits cannot be checked (their store is down) and the configuration says to refuse then.</summary>
    Unavailable,

    /// <summary>The request alone needs more than a per-minute limit allows: no wait will let it through.</summary>
    TooLarge,

    /// <summary>The key may not use the model at all.</summary>
    NotAllowed,

    /// <summary>The key was revoked after the work was accepted.</summary>
    KeyRevoked,
}

/// <summary>Admits every call; the default until the gateway registers real limits.</summary>
public sealed class NoModelAdmission : IModelAdmission, IAdmissionLease
{
    public static NoModelAdmission Instance { get; } = new();

    public ValueTask<IAdmissionLease> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IAdmissionLease>(this);

    public ValueTask SettleAsync(long inputTokens, long outputTokens, decimal cost, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
