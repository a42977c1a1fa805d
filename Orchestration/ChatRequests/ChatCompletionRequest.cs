using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.ChatRequests;

/// <summary>
/// A validated OpenAI chat completion request, already in Microsoft.Extensions.AI's terms: the body of
/// <c>POST /v1/chat/completions</c>, and equally a chat job's input or a batch item.
/// </summary>
public sealed record ChatCompletionRequest(
    string Model, IReadOnlyList<ChatMessage> Messages, ChatOptions Options, bool Stream, bool IncludeUsage, string? User,
    RetrievalRequest? Retrieval = null);

/// <summary>
/// Our extension field <c>retrieval</c>: ground the answer in a collection. The last user message is
/// searched for (<paramref name="TopK"/> passages, <paramref name="Mode"/> <c>hybrid</c>, <c>vector</c>
/// or <c>lexical</c>), the passages go into the prompt, and the answer cites them.
/// </summary>
public sealed record RetrievalRequest(string Collection, int TopK, string Mode);

/// <summary>Why a request was refused: OpenAI's message, the parameter at fault (a JSON path) and a code.</summary>
public sealed record ChatRequestError(string Message, string? Param, string? Code = null);
