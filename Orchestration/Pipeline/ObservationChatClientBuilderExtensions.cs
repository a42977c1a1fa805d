using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.Pipeline;

public static class ObservationChatClientBuilderExtensions
{
    /// <summary>
    /// Tells <paramref name="observer"/> about every call of <paramref name="alias"/> when it ends. Goes outermost,
    /// so it sees each call as the caller does, cache hits and refusals included. No observer adds nothing.
    /// </summary>
    public static ChatClientBuilder UseObservation(this ChatClientBuilder builder, string alias, IModelCallObserver? observer) =>
        observer is null ? builder : builder.Use(inner => new ObservedChatClient(inner, alias, observer));
}
