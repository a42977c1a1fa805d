using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.Pipeline;

/// <summary>
/// Told about every model call when it ends, with its <see cref="ModelCallContext"/> (who, which
/// deployment, usage and cost, cache outcome). The Api records gateway usage with it; a host without
/// one registered pays nothing.
/// </summary>
public interface IModelCallObserver
{
    /// <param name="failure">Why the call failed, or null when it answered.</param>
    void Completed(string alias, ModelCallContext context, Exception? failure);
}

/// <summary>The outermost layer of a pipeline when the host has an <see cref="IModelCallObserver"/>.</summary>
internal sealed class ObservedChatClient(IChatClient inner, string alias, IModelCallObserver observer) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (callOptions, context) = ModelCallContext.Ensure(options);
        try
        {
            var response = await base.GetResponseAsync(messages, callOptions, cancellationToken);
            observer.Completed(alias, context, null);
            return response;
        }
        catch (Exception exception)
        {
            observer.Completed(alias, context, exception);
            throw;
        }
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (callOptions, context) = ModelCallContext.Ensure(options);
        Exception? failure = new OperationCanceledException("The caller stopped reading the stream.");
        try
        {
            await using var stream = base.GetStreamingResponseAsync(messages, callOptions, cancellationToken).GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                try
                {
                    if (!await stream.MoveNextAsync())
                    {
                        break;
                    }
                }
                catch (Exception exception)
                {
                    failure = exception;
                    throw;
                }

                yield return stream.Current;
            }

            failure = null;
        }
        finally
        {
            observer.Completed(alias, context, failure);
        }
    }
}
