using System.ComponentModel.DataAnnotations;

namespace AspireLlm.Api.Errors;

/// <summary>Limits applied to every request, bound from <c>Api</c>.</summary>
public sealed class ApiOptions
{
    public const string SectionName = "Api";

    /// <summary>Largest accepted request body; larger bodies get 413 before they are parsed.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;
}
