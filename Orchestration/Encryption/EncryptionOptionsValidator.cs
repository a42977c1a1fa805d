using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AspireLlm.Orchestration.Encryption;

/// <summary>Stops the process at start when content could not be sealed or opened; each failure names its setting.</summary>
internal sealed class EncryptionOptionsValidator(IConfiguration configuration) : IValidateOptions<EncryptionOptions>
{
    public ValidateOptionsResult Validate(string? name, EncryptionOptions options)
    {
        const string root = EncryptionOptions.SectionName;
        var failures = new List<string>();
        if (options.Keys.Count == 0)
        {
            failures.Add($"{root}:Keys:{{id}} (or {EncryptionOptions.DefaultKeySetting}) must be set: prompts and answers are encrypted at rest.");
        }

        var defaultSecret = configuration[EncryptionOptions.DefaultKeySetting];
        foreach (var (id, secret) in options.Keys)
        {
            var fromDefault = id == EncryptionOptions.DefaultKeyId && secret == defaultSecret
                && string.IsNullOrEmpty(configuration[$"{root}:Keys:{id}"]);
            var setting = fromDefault ? EncryptionOptions.DefaultKeySetting : $"{root}:Keys:{id}";
            if (!ContentCipher.IsValidKeyId(id))
            {
                failures.Add($"{root}:Keys:{id}: a key id is 1 to 32 of A-Z, a-z, 0-9, '.', '_' and '-'.");
            }

            if ((secret?.Length ?? 0) < EncryptionOptions.MinimumSecretLength)
            {
                failures.Add($"{setting} must be at least {EncryptionOptions.MinimumSecretLength} characters.");
            }
        }

        if (!string.IsNullOrEmpty(defaultSecret) && options.Keys.TryGetValue(EncryptionOptions.DefaultKeyId, out var k1) && k1 != defaultSecret)
        {
            failures.Add($"{root}:Keys:{EncryptionOptions.DefaultKeyId} differs from {EncryptionOptions.DefaultKeySetting}, which is key " +
                $"'{EncryptionOptions.DefaultKeyId}': values sealed with it would no longer open. Give the new key another id.");
        }

        if (options.Keys.Count > 0 && (options.ActiveKeyId is null || !options.Keys.ContainsKey(options.ActiveKeyId)))
        {
            failures.Add(options.ActiveKeyId is null
                ? $"{root}:ActiveKeyId must name the key new values are sealed with (one of: {string.Join(", ", options.Keys.Keys.Order(StringComparer.Ordinal))})."
                : $"{root}:ActiveKeyId '{options.ActiveKeyId}' is not one of {root}:Keys.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
