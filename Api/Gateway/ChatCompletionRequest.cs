using Microsoft.Extensions.AI;

namespace AspireLlm.Api.Gateway;

/// <summary>A validated <c>POST /v1/chat/completions</c> body, already in Microsoft.Extensions.AI's terms.</summary>
public sealed record ChatCompletionRequest(
    string Model, IReadOnlyList<ChatMessage> Messages, ChatOptions Options, bool Stream, bool IncludeUsage, string? User);
