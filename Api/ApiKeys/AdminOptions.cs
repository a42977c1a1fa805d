using System.ComponentModel.DataAnnotations;

namespace AspireLlm.Api.ApiKeys;

/// <summary>The bootstrap admin key, passed by the AppHost as a secret parameter.</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Admin";

    /// <summary>Stored (hashed) at start so that the operator can create the first tenant keys.</summary>
    [MinLength(16)]
    public string? BootstrapKey { get; set; }

    /// <summary>The tenant the admin key acts for when it calls tenant endpoints itself.</summary>
    [Required]
    public string Tenant { get; set; } = "admin";
}
