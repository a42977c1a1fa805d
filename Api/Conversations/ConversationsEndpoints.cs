using System.Text.Json;
using System.Text.Json.Nodes;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Orchestration.ChatRequests;
using AspireLlm.Api.Errors;
using AspireLlm.Api.Gateway;
using AspireLlm.Orchestration.Routing;
using Microsoft.Extensions.Options;

namespace AspireLlm.Api.Conversations;

/// <summary>
/// Server-side chat history: create a conversation, send a turn (answered like a chat completion,
/// sync or streamed), read it back. Tenant-scoped: another tenant's conversation is "not found".
/// </summary>
public static class ConversationsEndpoints
{
    public static IEndpointRouteBuilder MapConversationsEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/conversations").WithTags("Conversations").RequireAuthorization();
        group.MapPost("/", CreateAsync).WithName("CreateConversation");
        group.MapGet("/{id:guid}", GetAsync).WithName("GetConversation");
        group.MapPost("/{id:guid}/messages", SendAsync).WithName("SendConversationMessage");
        group.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteConversation");
        return routes;
    }

    internal static async Task CreateAsync(HttpContext http, ConversationStore store, ModelCatalog models)
    {
        var key = Caller.KeyOf(http);
        if (await ReadAsync(http) is not { } body)
        {
            return;
        }

        var model = body["model"] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
        var system = body["system"] is JsonValue systemValue && systemValue.TryGetValue<string>(out var systemText) ? systemText : null;
        var unknown = body.Select(property => property.Key).FirstOrDefault(name => name is not ("model" or "system"));
        var error = unknown is not null ? OpenAiError.Invalid($"Unrecognized request argument supplied: {unknown}", unknown, "unknown_parameter")
            : model is null ? OpenAiError.Invalid("'model' is required and must be a string.", "model")
            : OpenAiError.ForModel(model, models.IsKnown(model), key.Limits) is { } refusal ? refusal
            : body["system"] is not null and not JsonValue ? OpenAiError.Invalid("'system' must be a string.", "system")
            : null;
        if (error is not null)
        {
            await error.WriteAsync(http);
            return;
        }

        var conversation = await store.CreateAsync(key.TenantId, key.Id, model!, system, http.RequestAborted);
        http.Response.StatusCode = StatusCodes.Status201Created;
        http.Response.Headers.Location = $"/v1/conversations/{conversation.Id}";
        await http.Response.WriteAsJsonAsync(View(conversation), ChatCompletionsEndpoint.Json);
    }

    internal static async Task GetAsync(Guid id, HttpContext http, ConversationStore store)
    {
        if (await store.FindAsync(id, Caller.KeyOf(http).TenantId, http.RequestAborted) is not { } conversation)
        {
            await NotFound(id).WriteAsync(http);
            return;
        }

        await http.Response.WriteAsJsonAsync(View(conversation), ChatCompletionsEndpoint.Json);
    }

    /// <summary>
    /// Erases the conversation (its messages in Postgres and its Redis copy), answered as OpenAI does:
    /// <c>{"id", "object": "conversation.deleted", "deleted": true}</c>. Nothing here was charged to a
    /// ledger row, so nothing else needs to stay. Another tenant's conversation is 404.
    /// </summary>
    internal static async Task DeleteAsync(Guid id, HttpContext http, ConversationStore store)
    {
        if (!await store.DeleteAsync(id, Caller.KeyOf(http).TenantId, http.RequestAborted))
        {
            await NotFound(id).WriteAsync(http);
            return;
        }

        await http.Response.WriteAsJsonAsync(new { id, @object = "conversation.deleted", deleted = true }, ChatCompletionsEndpoint.Json);
    }

    internal static async Task SendAsync(
        Guid id, HttpContext http, ConversationStore store, ModelCatalog models, IOptions<GatewayOptions> options,
        IOptions<ConversationOptions> conversationOptions, TimeProvider timeProvider)
    {
        var key = Caller.KeyOf(http);
        if (await ReadAsync(http) is not { } body)
        {
            return;
        }

        if (await store.FindAsync(id, key.TenantId, http.RequestAborted) is not { } conversation)
        {
            await NotFound(id).WriteAsync(http);
            return;
        }

        // The key may have been restricted, or the alias retired, since the conversation began.
        if (OpenAiError.ForModel(conversation.Model, models.IsKnown(conversation.Model), key.Limits) is { } refusal)
        {
            await refusal.WriteAsync(http);
            return;
        }

        if (body["content"] is not JsonValue contentValue || !contentValue.TryGetValue<string>(out var content) || content.Length == 0)
        {
            await OpenAiError.Invalid("'content' is required and must be a non-empty string.", "content").WriteAsync(http);
            return;
        }

        // The turn is a chat completion over the history plus the new message; every other field
        // (stream, temperature, max_tokens, ...) is validated as the chat endpoint validates it.
        body.Remove("content");
        var messages = new JsonArray();
        // The system message always goes, then the newest of the rest.
        var system = conversation.Messages.Where(message => message.Role == "system");
        var rest = conversation.Messages.Where(message => message.Role != "system").TakeLast(conversationOptions.Value.MaxHistoryMessages);
        foreach (var message in system.Concat(rest))
        {
            messages.Add(new JsonObject { ["role"] = message.Role, ["content"] = message.Content });
        }

        messages.Add(new JsonObject { ["role"] = "user", ["content"] = content });
        body["model"] = conversation.Model;
        body["messages"] = messages;
        var (request, error) = ChatCompletionParser.Parse(JsonSerializer.SerializeToElement(body));
        if (error is not null)
        {
            await OpenAiError.From(error).WriteAsync(http);
            return;
        }

        var answer = await ChatCompletionsEndpoint.CompleteAsync(http, models, key, request!, options.Value, timeProvider);
        if (answer is { Status: StatusCodes.Status200OK })
        {
            using var completion = JsonDocument.Parse(answer.Body);
            var reply = completion.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() ?? "";
            await store.AppendAsync(id, [new ConversationMessage("user", content), new ConversationMessage("assistant", reply)], CancellationToken.None);
        }
    }

    private static async Task<JsonObject?> ReadAsync(HttpContext http)
    {
        var (document, error) = await RequestBody.ReadAsync(http, http.RequestAborted);
        using (document)
        {
            if (document?.RootElement.ValueKind == JsonValueKind.Object)
            {
                return JsonObject.Create(document.RootElement.Clone());
            }
        }

        await OpenAiError.ForStatus(error?.Status ?? StatusCodes.Status400BadRequest, error?.Message ?? "The body must be a JSON object.").WriteAsync(http);
        return null;
    }

    private static OpenAiError NotFound(Guid id) =>
        new(StatusCodes.Status404NotFound, $"No conversation {id}.", "invalid_request_error", "id", "conversation_not_found");

    private static object View(Conversation conversation) => new
    {
        id = conversation.Id,
        @object = "conversation",
        model = conversation.Model,
        created_at = conversation.CreatedAt.ToUnixTimeSeconds(),
        messages = conversation.Messages.Select(message => new { role = message.Role, content = message.Content }),
    };
}
