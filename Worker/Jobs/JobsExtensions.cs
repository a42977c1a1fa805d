using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;
using Hangfire;
using Npgsql;

namespace AspireLlm.Worker.Jobs;

internal static class JobsExtensions
{
    /// <summary>How long a job cancelled at the end of the grace period has to requeue itself before the process exits.</summary>
    private static readonly TimeSpan RequeueMargin = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A Hangfire server per job kind's queue, each with its own worker count, on the shared Postgres
    /// storage. Graceful shutdown: on SIGTERM the servers stop fetching, running jobs get the grace
    /// period, and whatever is still running then is cancelled and requeued by Hangfire.
    /// </summary>
    public static IHostApplicationBuilder AddJobProcessing(this IHostApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(WorkerOptions.SectionName);
        builder.Services.AddOptions<WorkerOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart();
        var options = section.Get<WorkerOptions>() ?? new WorkerOptions();
        var grace = TimeSpan.FromSeconds(options.ShutdownGraceSeconds);

        builder.Services.AddSingleton<JobStore>();
        builder.Services.AddSingleton<JobEventLog>();
        builder.Services.AddSingleton<JobReporter>();
        builder.Services.AddSingleton<RunningJobs>();
        builder.Services.AddSingleton<JobExecution>();
        builder.Services.AddTransient<IChatCompletionJob, ChatCompletionJob>();
        builder.Services.AddTransient<IBatchJob, BatchJob>();
        builder.Services.AddTransient<IIndexJob, IndexJob>();
        builder.Services.AddHostedService<JobDispatcher>();
        builder.Services.AddHostedService<CancellationListener>();

        // Hangfire's default filters each cost database work on every job, for features we do not use:
        // culture capture (our jobs are culture-invariant: two parameter rows per job), the history
        // counters behind Hangfire's own dashboard (ours reads the jobs table: counter rows per job, and
        // the aggregator that folds them), and continuations (we never chain Hangfire jobs: a parameter
        // lookup at every state change).
        GlobalJobFilters.Filters.Remove(typeof(CaptureCultureAttribute));
        GlobalJobFilters.Filters.Remove(typeof(StatisticsHistoryAttribute));
        GlobalJobFilters.Filters.Remove(typeof(ContinuationsSupportAttribute));
        builder.Services.AddHangfire((services, configuration) => configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseRecommendedSerializerSettings()
            .UseFilter(ActivatorUtilities.CreateInstance<JobFailureFilter>(services))
            .UseStorage(HangfireStorage.Create(
                services.GetRequiredService<NpgsqlDataSource>(), TimeSpan.FromSeconds(options.InvisibilityTimeoutSeconds))));

        // One server per queue, so each job kind has its own worker count and a flood of one kind
        // cannot starve the other.
        foreach (var (kind, workers) in new[]
                 {
                     (JobKinds.ChatCompletion, options.ChatWorkerCount), (JobKinds.Batch, options.BatchWorkerCount),
                     (JobKinds.Index, options.IndexWorkerCount), (JobKinds.Agent, options.AgentWorkerCount),
                 })
        {
            var queue = JobKinds.Queues[kind];
            builder.Services.AddHangfireServer(server =>
            {
                server.ServerName = $"{JobExecution.WorkerName}:{queue}";
                server.Queues = [queue];
                server.WorkerCount = workers;
                // Running jobs get the grace period, then their token is cancelled; the server then waits
                // a little longer, so that a cancelled job can still hand itself back (a quick write)
                // before the process exits. Without that margin the requeue raced the exit.
                server.StopTimeout = grace;
                server.ShutdownTimeout = grace + RequeueMargin;
            });
        }

        // The host must wait at least as long as Hangfire does, or it would cut the grace period short.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = grace + RequeueMargin + TimeSpan.FromSeconds(5));
        return builder;
    }
}
