using System.ComponentModel.DataAnnotations;

namespace AspireLlm.Api.Gateway;

public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>
    /// Total time a synchronous or streamed completion may take, retries and fallbacks included;
    /// longer work belongs in <c>/v1/jobs</c>.
    /// </summary>
    [Range(1, 600)]
    public int SyncTimeoutSeconds { get; set; } = 30;
}
