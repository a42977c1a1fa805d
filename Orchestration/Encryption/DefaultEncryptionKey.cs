using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AspireLlm.Orchestration.Encryption;

/// <summary>
/// Keeps deployments that predate the keyring working without a new secret: the conversation
/// secret they already have becomes key <see cref="EncryptionOptions.DefaultKeyId"/>, and the only
/// key is the active one.
/// </summary>
internal sealed class DefaultEncryptionKey(IConfiguration configuration) : IPostConfigureOptions<EncryptionOptions>
{
    public void PostConfigure(string? name, EncryptionOptions options)
    {
        if (configuration[EncryptionOptions.DefaultKeySetting] is { Length: > 0 } secret)
        {
            options.Keys.TryAdd(EncryptionOptions.DefaultKeyId, secret);
        }

        if (string.IsNullOrEmpty(options.ActiveKeyId) && options.Keys.Count == 1)
        {
            options.ActiveKeyId = options.Keys.Keys.Single();
        }
    }
}
