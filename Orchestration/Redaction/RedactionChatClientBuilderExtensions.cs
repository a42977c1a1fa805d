using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.Redaction;

public static class RedactionChatClientBuilderExtensions
{
    /// <summary>Replaces personal data in prompts before they leave, when <paramref name="enabled"/> (<see cref="ModelAliasOptions.RedactPrompts"/>).</summary>
    public static ChatClientBuilder UseRedaction(this ChatClientBuilder builder, bool enabled = true) =>
        enabled ? builder.Use(inner => new RedactingChatClient(inner)) : builder;
}
