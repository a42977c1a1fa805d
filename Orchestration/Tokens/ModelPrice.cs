namespace AspireLlm.Orchestration.Tokens;

/// <summary>
/// A deployment's price per million tokens. Money is decimal end to end: a float would drift by
/// fractions of a cent over millions of calls, and budgets must add up exactly.
/// </summary>
public readonly record struct ModelPrice(decimal InputPerMillion, decimal OutputPerMillion)
{
    private const decimal Million = 1_000_000m;

    public decimal CostOf(long inputTokens, long outputTokens) =>
        (inputTokens * InputPerMillion + outputTokens * OutputPerMillion) / Million;
}
