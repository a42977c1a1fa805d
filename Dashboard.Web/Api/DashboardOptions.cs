using System.ComponentModel.DataAnnotations;

namespace AspireLlm.Dashboard.Web.Api;

/// <summary>How the dashboard reaches the Api, bound from <c>Admin</c>.</summary>
public sealed class DashboardOptions
{
    public const string SectionName = "Admin";

    /// <summary>The admin API key: used for the Api calls, and what an operator types to log in.</summary>
    [Required, MinLength(16)]
    public string ApiKey { get; set; } = "";

    /// <summary>The Api, by service-discovery name.</summary>
    [Required]
    public string ApiBaseAddress { get; set; } = "https+http://api";
}
