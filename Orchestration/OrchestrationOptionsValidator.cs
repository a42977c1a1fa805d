using Microsoft.Extensions.Options;

namespace AspireLlm.Orchestration;

/// <summary>Cross-field rules the DataAnnotations cannot express; each failure names the setting.</summary>
internal sealed class OrchestrationOptionsValidator : IValidateOptions<OrchestrationOptions>
{
    private static readonly HashSet<string> KnownProviders = [ProviderNames.Simulator];

    public ValidateOptionsResult Validate(string? name, OrchestrationOptions options)
    {
        var failures = new List<string>();
        if (options.Models.Count == 0)
        {
            failures.Add($"{OrchestrationOptions.SectionName}:Models must name at least one model alias.");
        }

        foreach (var (alias, route) in options.Models)
        {
            var setting = $"{OrchestrationOptions.SectionName}:Models:{alias}";
            if (!KnownProviders.Contains(route.Provider))
            {
                failures.Add($"{setting}:Provider '{route.Provider}' is not one of: {string.Join(", ", KnownProviders)}.");
            }

            if (string.IsNullOrWhiteSpace(route.Model))
            {
                failures.Add($"{setting}:Model is required.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
