using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Tokens;
using Microsoft.Extensions.Hosting;

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

    [Fact]
    public async Task With_the_idle_setting_large_work_runs_at_Linux_idle_priority_and_nothing_else_does()
    {
        const int SchedIdle = 5;
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration[OrchestrationExtensions.HeavyWorkPrioritySetting] = "Idle";
        try
        {
            builder.AddOrchestration();
            Assert.Equal(HeavyWorkPriority.Idle, BackgroundCpuWork.Priority);

            var large = await LargePromptGate.RunAsync(LargePromptGate.Threshold, ThreadScheduling.CurrentPolicy, CancellationToken.None);
            var small = await LargePromptGate.RunAsync(LargePromptGate.Threshold - 1, ThreadScheduling.CurrentPolicy, CancellationToken.None);

            Assert.Equal(SchedIdle, large);
            Assert.Equal(0, small);
            Assert.Equal(0, ThreadScheduling.CurrentPolicy());
        }
        finally
        {
            BackgroundCpuWork.Priority = HeavyWorkPriority.Normal;
        }

        Assert.Equal(0, await LargePromptGate.RunAsync(LargePromptGate.Threshold, ThreadScheduling.CurrentPolicy, CancellationToken.None));
    }
}
