using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;
using Hangfire;
using Npgsql;

namespace AspireLlm.Api.Jobs;

internal static class JobsExtensions
{
    /// <summary>
    /// The Api only enqueues: it gets a Hangfire client and no Hangfire server, so it never runs a job.
    /// </summary>
    public static IHostApplicationBuilder AddJobs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<JobStore>();
        builder.Services.AddSingleton<JobRequestParser>();
        builder.Services.AddSingleton<JobDispatcher>();
        builder.Services.AddSingleton<JobEventLog>();
        builder.Services.AddSingleton<JobCancellation>();
        builder.Services.AddSingleton<JobStorage>(services =>
            HangfireStorage.Create(services.GetRequiredService<NpgsqlDataSource>(), TimeSpan.FromMinutes(1)));
        builder.Services.AddSingleton<IBackgroundJobClient>(services =>
            new BackgroundJobClient(services.GetRequiredService<JobStorage>()));
        return builder;
    }
}
