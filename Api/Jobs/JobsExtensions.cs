using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;

namespace AspireLlm.Api.Jobs;

internal static class JobsExtensions
{
    /// <summary>
    /// The Api accepts jobs by committing their rows; it neither runs nor enqueues them. The Workers'
    /// dispatchers, woken by the row's NOTIFY, put each job on its Hangfire queue. (Hangfire's client
    /// is synchronous: calling it from request handlers blocked thread-pool threads and, measured at 50
    /// concurrent submitters on 2 cores, starved the pool into multi-second latencies.)
    /// </summary>
    public static IHostApplicationBuilder AddJobs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<JobLimitsOptions>()
            .Bind(builder.Configuration.GetSection(JobLimitsOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<JobStore>();
        builder.Services.AddSingleton<JobRequestParser>();
        builder.Services.AddSingleton<JobEventLog>();
        builder.Services.AddSingleton<JobNotifications>();
        builder.Services.AddSingleton<JobCancellation>();
        builder.Services.AddSingleton<JobAcceptance>();
        builder.Services.AddSingleton<Orchestration.Jobs.Webhooks.WebhookSecretStore>();
        return builder;
    }
}
