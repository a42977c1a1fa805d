using System.Security.Cryptography;
using AspireLlm.Api.ApiKeys;
using Microsoft.AspNetCore.Http.HttpResults;
using StackExchange.Redis;

namespace AspireLlm.Api.Agents;

/// <summary>The answer to <c>POST /v1/agents/tickets</c>.</summary>
public sealed record AgentTicket(string Ticket, string Object, int ExpiresIn);

/// <summary>
/// Tickets let a browser open the agent WebSocket, which cannot send an Authorization header, without
/// putting a key in a URL: a key-authenticated <c>POST /v1/agents/tickets</c> gets a random ticket,
/// valid once for <see cref="Lifetime"/>, bound to that key. Redis holds only the ticket's hash, so
/// every replica can redeem it and nothing stored can be replayed as a ticket.
/// </summary>
public sealed class AgentTickets(IConnectionMultiplexer redis, ApiKeyStore keys)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);

    internal static async Task<Ok<AgentTicket>> CreateForCallerAsync(HttpContext context, AgentTickets tickets)
    {
        var ticket = await tickets.IssueAsync(Caller.KeyOf(context).Id);
        return TypedResults.Ok(new AgentTicket(ticket, "agent.ticket", (int)Lifetime.TotalSeconds));
    }

    public async Task<string> IssueAsync(Guid keyId)
    {
        var ticket = "tk_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await redis.GetDatabase().StringSetAsync(Key(ticket), keyId.ToString("N"), Lifetime);
        return ticket;
    }

    /// <summary>The still active key a ticket was issued to, or null (unknown, used, expired, or the key revoked since).</summary>
    public async Task<ApiKeyRecord?> RedeemAsync(string ticket, CancellationToken cancellationToken)
    {
        if (ticket.Length is < 10 or > 64)
        {
            return null;
        }

        var keyId = await redis.GetDatabase().StringGetDeleteAsync(Key(ticket));
        return keyId.HasValue && Guid.TryParse((string?)keyId, out var id) && await keys.GetAsync(id, cancellationToken) is { RevokedAt: null } key
            ? key
            : null;
    }

    private static RedisKey Key(string ticket) =>
        "aspirellm:agents:ticket:" + Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(ticket)));
}
