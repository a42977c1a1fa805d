using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.StructuredOutput;

public static class StructuredOutputChatClientBuilderExtensions
{
    /// <summary>Checks JSON and JSON-schema answers, repairing a bad non-streamed one once.</summary>
    public static ChatClientBuilder UseStructuredOutput(this ChatClientBuilder builder) =>
        builder.Use(inner => new StructuredOutputChatClient(inner));
}
