using System.Text;
using AspireLlm.Orchestration.ChatRequests;
using Microsoft.Extensions.AI;
using Npgsql;

namespace AspireLlm.Orchestration.Retrieval;

/// <summary>A passage an answer was grounded in, as the response cites it.</summary>
public sealed record Citation(int Index, Guid ChunkId, string DocumentId, string? Title, double Score);

/// <summary>
/// What grounding did: the messages to send (passages added), the citations, and whether retrieval
/// worked. <see cref="Status"/> is <c>ok</c>, <c>no_results</c>, or <c>failed</c> (the model then
/// answers from the conversation alone, and the response says so in <see cref="Message"/>).
/// </summary>
public sealed record GroundingResult(IReadOnlyList<ChatMessage> Messages, IReadOnlyList<Citation> Citations, string Status, string? Message)
{
    /// <summary>Extra fields of a grounded completion: <c>citations</c> and <c>retrieval</c>.</summary>
    public IReadOnlyDictionary<string, object?> ResponseFields() => new Dictionary<string, object?>
    {
        ["citations"] = Citations.Select(citation => new
        {
            index = citation.Index, chunk_id = citation.ChunkId.ToString("N"), document_id = citation.DocumentId, title = citation.Title, score = citation.Score,
        }).ToList(),
        ["retrieval"] = Message is null ? new { status = Status } : new { status = Status, message = Message },
    };
}

/// <summary>The requested collection is not the caller's tenant's (or does not exist).</summary>
public sealed class CollectionNotFoundException(string collection) : Exception($"No collection '{collection}' exists for this API key's tenant.")
{
    public string Collection { get; } = collection;
}

/// <summary>
/// Grounded chat (the <c>retrieval</c> field of a chat request, in the gateway and in chat jobs alike):
/// retrieves for the last user message and adds the passages as a system message just before it,
/// numbered so the model can cite them as [1], [2]. A collection that is not the tenant's is an error;
/// a search that fails is not: the model answers from the conversation alone and the response says so.
/// </summary>
public sealed class Grounding(CollectionStore store, RetrievalSearch search)
{
    public async Task<GroundingResult> GroundAsync(string tenantId, RetrievalRequest request, IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken)
    {
        var collection = Guid.TryParse(request.Collection, out var id) ? await store.GetAsync(id, tenantId, cancellationToken) : null;
        if (collection is null)
        {
            throw new CollectionNotFoundException(request.Collection);
        }

        var question = messages.LastOrDefault(message => message.Role == ChatRole.User)?.Text;
        if (string.IsNullOrWhiteSpace(question))
        {
            return new GroundingResult(messages, [], "no_results", "There is no user message to retrieve for.");
        }

        SearchResult found;
        try
        {
            found = await search.SearchAsync(collection, question, request.TopK, Enum.Parse<SearchMode>(request.Mode, ignoreCase: true), cancellationToken);
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException or Routing.ModelUnavailableException)
        {
            return new GroundingResult(messages, [], "failed", "Retrieval failed; the answer is from the conversation alone.");
        }

        if (found.Hits.Count == 0)
        {
            return new GroundingResult(messages, [], "no_results", "Nothing in the collection matched; the answer is from the conversation alone.");
        }

        var context = new StringBuilder("Answer using the numbered passages below where they are relevant, and cite them as [1], [2]. ")
            .Append("If they do not contain the answer, say so.\n\n");
        var citations = new List<Citation>();
        foreach (var hit in found.Hits)
        {
            citations.Add(new Citation(citations.Count + 1, hit.ChunkId, hit.DocumentId, hit.Title, hit.Score));
            context.Append('[').Append(citations.Count).Append("] ").Append(hit.Title is null ? "" : hit.Title + ": ").Append(hit.Text).Append("\n\n");
        }

        var last = messages.Count - 1 - messages.Reverse().TakeWhile(message => message.Role != ChatRole.User).Count();
        List<ChatMessage> grounded = [.. messages.Take(last), new ChatMessage(ChatRole.System, context.ToString().TrimEnd()), .. messages.Skip(last)];
        var note = found.Degraded.Count > 0 ? $"Partly degraded: the {string.Join(", ", found.Degraded)} search was unavailable." : null;
        return new GroundingResult(grounded, citations, "ok", note);
    }
}
