using AspireLlm.Orchestration.Jobs.Webhooks;
using Microsoft.AspNetCore.Http.HttpResults;

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

    /// <summary>Stored sealed; a key that has none yet gets one now, and its webhooks are signed with it.</summary>
    internal static async Task<Ok<WebhookSecret>> GetAsync(HttpContext context, WebhookSecretStore secrets, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        var secret = await secrets.GetOrCreateAsync(caller.KeyId, cancellationToken);
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new WebhookSecret(secret, "HMAC-SHA256 over \"{timestamp}.{body}\"",
            WebhookSignature.SignatureHeader, WebhookSignature.TimestampHeader));
    }
}
