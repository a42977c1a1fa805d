using System.Diagnostics;
using System.Net.WebSockets;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Streams;
using AspireLlm.Orchestration.Agents;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace AspireLlm.Api.Agents;

/// <summary>
/// <c>GET /v1/agents/ws</c>: opens an agent session. The caller proves its key on the upgrade request,
/// with <c>Authorization: Bearer</c> or (for browsers) a single-use <c>?ticket=</c>; failures count
/// against the client address like any failed authentication. A key may hold
/// <c>Agents:MaxSessionsPerKey</c> sessions across every replica (429 beyond); a session is registered
/// with the key's open streams, so revoking the key ends it within the revocation bound.
/// </summary>
internal static class AgentSocketEndpoint
{
    public const string SessionPool = "agents";

    public static async Task<IResult> AcceptAsync(
        HttpContext context, AgentTickets tickets, FailedAuthentication failures, OpenStreams streams, IOptions<AgentOptions> options,
        IServiceProvider services, CancellationToken cancellationToken)
    {
        var key = context.User.Identity?.IsAuthenticated == true ? Caller.KeyOf(context) : null;
        if (key is null)
        {
            var address = context.Connection.RemoteIpAddress;
            if (!failures.MayTry(address))
            {
                context.Response.Headers.RetryAfter = ((int)FailedAuthentication.RetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Problem(StatusCodes.Status429TooManyRequests, "Too many failed attempts", "Too many requests without a valid key or ticket from this address.",
                    "too_many_failed_attempts");
            }

            var ticket = context.Request.Query["ticket"].ToString();
            key = ticket.Length > 0 ? await tickets.RedeemAsync(ticket, cancellationToken) : null;
            if (key is null)
            {
                failures.Record(address);
                context.Response.Headers.WWWAuthenticate = "Bearer";
                return Problem(StatusCodes.Status401Unauthorized, "Unauthorized",
                    "Send 'Authorization: Bearer <key>' on the upgrade request, or '?ticket=' from POST /v1/agents/tickets (single use, 60 s).", "invalid_api_key");
            }
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.Headers.Upgrade = "websocket";
            return Problem(StatusCodes.Status426UpgradeRequired, "WebSocket required", "This endpoint speaks the agent protocol over WebSocket.", "websocket_required");
        }

        await using var stream = await streams.OpenAsync(key.Id, options.Value.MaxSessionsPerKey, SessionPool);
        if (stream is null)
        {
            context.Response.Headers.RetryAfter = "5";
            return Problem(StatusCodes.Status429TooManyRequests, "Too many agent sessions",
                $"This API key already has {options.Value.MaxSessionsPerKey} agent sessions open; close one first.", "too_many_sessions");
        }

        var heartbeat = TimeSpan.FromSeconds(options.Value.HeartbeatSeconds);
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            // Protocol pings; a peer that answers none within another interval is dropped.
            KeepAliveInterval = heartbeat,
            KeepAliveTimeout = heartbeat,
        });
        EndUpgradeActivity(context);
        var session = ActivatorUtilities.CreateInstance<AgentSession>(services, socket, key);
        await session.RunAsync(stream.Revoked, cancellationToken);
        return Results.Empty;
    }

    /// <summary>
    /// The session runs outside the upgrade request's activity, which ends here. Tracing leaves WebSocket
    /// requests out (ServiceDefaults), but the activity still exists, and the Redis instrumentation keeps
    /// the profile of every command run under an activity until that activity stops: under one that lasts
    /// as long as the session, a busy session would grow for as long as it lives.
    /// </summary>
    private static void EndUpgradeActivity(HttpContext context)
    {
        context.Features.Get<IHttpActivityFeature>()?.Activity.Stop();
        Activity.Current = null;
    }

    private static IResult Problem(int status, string title, string detail, string code) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail, extensions: new Dictionary<string, object?> { ["code"] = code });
}
