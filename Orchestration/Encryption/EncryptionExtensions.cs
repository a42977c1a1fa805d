using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AspireLlm.Orchestration.Encryption;

public static class EncryptionExtensions
{
    /// <summary>
    /// Registers <see cref="ContentCipher"/> over the <c>Encryption</c> keyring (or the default key from
    /// <c>Conversations:EncryptionKey</c>), validated at start: without a usable key the process stops
    /// with a message naming the setting, rather than storing content in the clear.
    /// </summary>
    public static IHostApplicationBuilder AddContentEncryption(this IHostApplicationBuilder builder)
    {
        if (builder.Services.Any(service => service.ServiceType == typeof(ContentCipher)))
        {
            return builder;
        }

        builder.Services.AddOptions<EncryptionOptions>()
            .Bind(builder.Configuration.GetSection(EncryptionOptions.SectionName))
            .ValidateOnStart();
        builder.Services.AddSingleton<IPostConfigureOptions<EncryptionOptions>, DefaultEncryptionKey>();
        builder.Services.AddSingleton<IValidateOptions<EncryptionOptions>, EncryptionOptionsValidator>();
        builder.Services.TryAddSingleton<ContentCipher>();
        return builder;
    }

    /// <summary>
    /// The cipher from configuration alone, for one-shot commands without a host; throws
    /// <see cref="OptionsValidationException"/> naming the settings when the keyring is unusable.
    /// </summary>
    public static ContentCipher CreateContentCipher(IConfiguration configuration)
    {
        var options = configuration.GetSection(EncryptionOptions.SectionName).Get<EncryptionOptions>() ?? new EncryptionOptions();
        new DefaultEncryptionKey(configuration).PostConfigure(Options.DefaultName, options);
        var result = new EncryptionOptionsValidator(configuration).Validate(Options.DefaultName, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(EncryptionOptions), result.Failures);
        }

        return new ContentCipher(options);
    }
}
