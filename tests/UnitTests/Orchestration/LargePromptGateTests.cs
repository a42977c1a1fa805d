using AspireLlm.Orchestration.Tokens;

namespace AspireLlm.UnitTests.Orchestration;

public sealed class LargePromptGateTests
{
    [Fact]
    public async Task Small_work_runs_at_once_on_the_callers_thread()
    {
        var caller = Environment.CurrentManagedThreadId;

        var ranOn = await LargePromptGate.RunAsync(LargePromptGate.Threshold - 1, () => Environment.CurrentManagedThreadId, CancellationToken.None);

        Assert.Equal(caller, ranOn);
    }

    [Fact]
    public async Task Large_work_runs_on_a_thread_of_its_own_never_a_pool_thread()
    {
        // A pool thread held by a huge prompt starved a one-CPU replica's health probes.
        var onPool = await LargePromptGate.RunAsync(LargePromptGate.Threshold, () => Thread.CurrentThread.IsThreadPoolThread, CancellationToken.None);

        Assert.False(onPool);
    }

    [Fact]
    public async Task A_failure_in_the_work_reaches_the_caller_and_frees_the_turn()
    {
        await Assert.ThrowsAsync<FormatException>(() =>
            LargePromptGate.RunAsync<int>(LargePromptGate.Threshold, () => throw new FormatException(), CancellationToken.None).AsTask());

        // The turn was given back: the next large piece of work runs.
        Assert.Equal(42, await LargePromptGate.RunAsync(LargePromptGate.Threshold, () => 42, CancellationToken.None));
    }
}
