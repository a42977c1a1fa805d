using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace AspireLlm.Api.ApiKeys;

/// <summary>The secret that signs this key's webhooks: <c>GET /v1/webhooks/secret</c>, for the key itself only.</summary>
public sealed record WebhookSecret(string Secret, string Algorithm, string SignatureHeader, string TimestampHeader);

internal static class WebhookSecretEndpoints
{
    public static IEndpointRouteBuilder MapWebhookSecretEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/v1/webhooks").WithTags("Webhooks").RequireAuthorization()
            .MapGet("/secret", GetAsync).WithName("GetWebhookSecret");
        return routes;
    }

    internal static async Task<Ok<WebhookSecret>> GetAsync(HttpContext context, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        await using var command = dataSource.CreateCommand("SELECT webhook_secret FROM api_keys WHERE id = $1");
        command.Parameters.AddWithValue(caller.KeyId);
        var secret = (string)(await command.ExecuteScalarAsync(cancellationToken))!;
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new WebhookSecret(secret, "HMAC-SHA256 over \"{timestamp}.{body}\"",
            Orchestration.Jobs.Webhooks.WebhookSignature.SignatureHeader, Orchestration.Jobs.Webhooks.WebhookSignature.TimestampHeader));
    }
}
