using AspireLlm.Api.ApiKeys;

namespace AspireLlm.Api.Audit;

/// <summary>
/// Who did an admin action and from where: the key's id and public prefix (never the key), the
/// address the request came from, and the address a caller says it acts for (<c>X-Forwarded-For</c>,
/// which the dashboard sends for its operator; recorded as said, never used to decide anything here).
/// </summary>
public sealed record AuditActor(Guid? KeyId, string Prefix, string? ClientAddress, string? ForwardedFor)
{
    private const int MaxForwardedLength = 200;

    /// <summary>The Api itself, at start (storing, restoring or rotating the bootstrap key).</summary>
    public static AuditActor System { get; } = new(null, "system", null, null);

    /// <summary>The authenticated admin key of this request.</summary>
    public static AuditActor From(HttpContext context)
    {
        var key = Caller.KeyOf(context);
        return new(key.Id, key.Prefix, ClientAddressOf(context), ForwardedForOf(context));
    }

    public static string? ClientAddressOf(HttpContext context) => context.Connection.RemoteIpAddress?.ToString();

    /// <summary>The <c>X-Forwarded-For</c> header as sent, bounded; null when absent.</summary>
    public static string? ForwardedForOf(HttpContext context)
    {
        var value = context.Request.Headers["X-Forwarded-For"].ToString().Trim();
        return value.Length == 0 ? null : value.Length > MaxForwardedLength ? value[..MaxForwardedLength] : value;
    }
}
