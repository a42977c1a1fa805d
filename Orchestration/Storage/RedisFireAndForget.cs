namespace AspireLlm.Orchestration.Storage;

/// <summary>
/// Commands sent to Redis without waiting for the reply go through the client's asynchronous methods. Its
/// synchronous ones can block the calling thread on the connection's write lock, and in the Api that thread
/// may be the one that completes every socket's reads (inline socket completions): a wait there stalls the
/// whole process until the client times out.
/// </summary>
internal static class RedisFireAndForget
{
    /// <summary>Observes the command's task, so a write that fails later is not an unobserved task exception.</summary>
    public static void Send(Task command)
    {
        if (!command.IsCompletedSuccessfully)
        {
            _ = command.ContinueWith(static task => _ = task.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }
}
