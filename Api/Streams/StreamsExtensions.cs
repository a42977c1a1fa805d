namespace AspireLlm.Api.Streams;

internal static class StreamsExtensions
{
    public static IHostApplicationBuilder AddOpenStreams(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<OpenStreams>();
        builder.Services.AddHostedService<StreamWatchdog>();
        return builder;
    }
}
