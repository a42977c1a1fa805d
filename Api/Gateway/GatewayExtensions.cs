using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Admission;

namespace AspireLlm.Api.Gateway;

internal static class GatewayExtensions
{
    public static IHostApplicationBuilder AddGateway(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<GatewayOptions>().Bind(builder.Configuration.GetSection(GatewayOptions.SectionName))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.AddRedisAdmission();
        builder.Services.AddSingleton<ChatIdempotency>();
        builder.Services.AddOptions<Conversations.ConversationOptions>().Bind(builder.Configuration.GetSection(Conversations.ConversationOptions.SectionName))
            .Validate(o => o.EncryptionKey is null || o.EncryptionKey.Length >= 32, "Conversations:EncryptionKey must be at least 32 characters.")
            .ValidateOnStart();
        builder.Services.AddSingleton<Conversations.ConversationCipher>();
        builder.Services.AddSingleton<Conversations.ConversationStore>();
        return builder;
    }

    public static IEndpointRouteBuilder MapGatewayEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/v1/chat/completions", ChatCompletionsEndpoint.HandleAsync)
            .RequireAuthorization().WithTags("Chat").WithName("CreateChatCompletion");
        routes.MapPost("/v1/embeddings", EmbeddingsEndpoint.HandleAsync)
            .RequireAuthorization().WithTags("Embeddings").WithName("CreateEmbeddings");
        Conversations.ConversationsEndpoints.MapConversationsEndpoints(routes);
        return routes;
    }

    /// <summary>Every response carries an x-request-id, as OpenAI's do; support quotes it back to us.</summary>
    public static IApplicationBuilder UseRequestIds(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Response.Headers["x-request-id"] = "req_" + (System.Diagnostics.Activity.Current?.TraceId.ToHexString() ?? Guid.NewGuid().ToString("N"));
        return next(context);
    });
}
