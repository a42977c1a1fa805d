using System.ComponentModel.DataAnnotations;

namespace AspireLlm.Dashboard.Web.Api;

/// <summary>How the dashboard reaches the Api, bound from <c>Admin</c>.</summary>
public sealed class DashboardOptions
{
    public const string SectionName = "Admin";

    /// <summary>
    /// The dashboard's admin API key, for its Api calls. Operators log in with any active admin key
    /// (this one included), which the Api checks.
    /// </summary>
    [Required, MinLength(16)]
    public string ApiKey { get; set; } = "";

    /// <summary>The Api, by service-discovery name.</summary>
    [Required]
    public string ApiBaseAddress { get; set; } = "https+http://api";
}
