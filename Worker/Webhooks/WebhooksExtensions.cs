using System.Net;
using System.Net.Sockets;
using AspireLlm.Orchestration.Jobs.Webhooks;
using Microsoft.Extensions.Options;

namespace AspireLlm.Worker.Webhooks;

internal static class WebhooksExtensions
{
    public static IHostApplicationBuilder AddWebhooks(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WebhookOptions>()
            .Bind(builder.Configuration.GetSection(WebhookOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddHostedService<WebhookSender>();

        // Not the standard resilience handler: WebhookSender owns retries (for 24 h, recorded per attempt).
        builder.Services.AddHttpClient(WebhookSender.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(services =>
            {
                var allowPrivate = services.GetRequiredService<IOptions<WebhookOptions>>().Value.AllowPrivateNetworks;
                return new SocketsHttpHandler
                {
                    AllowAutoRedirect = false,
                    // Through a proxy, the connect-time check below would vet the proxy, not the destination.
                    UseProxy = false,
                    ConnectCallback = (context, cancellationToken) => ConnectToAllowedAsync(context, allowPrivate, cancellationToken),
                };
            });
        return builder;
    }

    /// <summary>
    /// Resolves the host and connects only to an allowed address: the check happens on the address
    /// actually used, so a public name that resolves to a private address is refused too. Agents' http_get connects through it too.
    /// </summary>
    internal static async ValueTask<Stream> ConnectToAllowedAsync(SocketsHttpConnectionContext context, bool allowPrivate, CancellationToken cancellationToken)
    {
        var addresses = await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken);
        var allowed = addresses.Where(address => allowPrivate || WebhookDestination.IsPublic(address)).ToList();
        if (allowed.Count == 0)
        {
            throw new HttpRequestException($"The webhook host {context.DnsEndPoint.Host} resolves only to addresses that are not allowed.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed.ToArray(), context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
