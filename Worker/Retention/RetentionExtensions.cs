namespace AspireLlm.Worker.Retention;

internal static class RetentionExtensions
{
    /// <summary>The purge of finished jobs' content past <c>Retention:JobContentDays</c>.</summary>
    public static IHostApplicationBuilder AddRetention(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RetentionOptions>()
            .Bind(builder.Configuration.GetSection(RetentionOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddHostedService<JobContentPurger>();
        return builder;
    }
}
