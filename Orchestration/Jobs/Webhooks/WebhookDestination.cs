using System.Net;
using System.Net.Sockets;

namespace AspireLlm.Orchestration.Jobs.Webhooks;

/// <summary>
/// Which webhook destinations are allowed. Private, loopback, link-local and other non-public
/// addresses are refused unless configured otherwise, so a tenant cannot make our workers call into
/// the network they run in. The Api checks the URL when a job is submitted; the Worker checks the
/// address it actually connects to, which also defeats DNS names that resolve to private addresses.
/// </summary>
public static class WebhookDestination
{
    public const int MaxUrlLength = 2048;

    /// <summary>Null when the URL may be used; otherwise why not.</summary>
    public static string? Check(string url, bool allowPrivateNetworks)
    {
        if (url.Length > MaxUrlLength || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return "The webhook URL must be an absolute URL.";
        }

        if (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
        {
            return "The webhook URL must use http or https.";
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "The webhook URL must not carry credentials.";
        }

        if (allowPrivateNetworks)
        {
            return null;
        }

        if (uri.IsLoopback || uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(uri.DnsSafeHost, out var address) && !IsPublic(address)))
        {
            return "The webhook URL must not point to a private, loopback or link-local address.";
        }

        return null;
    }

    /// <summary>True for addresses on the public internet.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var v6 = address.GetAddressBytes();
            // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address: judge that one.
            if (v6[0] == 0x00 && v6[1] == 0x64 && v6[2] == 0xff && v6[3] == 0x9b && v6[4..12].All(b => b == 0))
            {
                return IsPublic(new IPAddress(v6[12..16]));
            }

            if (v6[0] == 0x20 && v6[1] == 0x02)
            {
                return IsPublic(new IPAddress(v6[2..6]));
            }

            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast);
        }

        var b = address.GetAddressBytes();
        return !(b[0] == 10                                   // 10.0.0.0/8
            || (b[0] == 172 && b[1] is >= 16 and <= 31)        // 172.16.0.0/12
            || (b[0] == 192 && b[1] == 168)                    // 192.168.0.0/16
            || (b[0] == 169 && b[1] == 254)                    // link-local, cloud metadata
            || (b[0] == 100 && b[1] is >= 64 and <= 127)       // carrier-grade NAT
            || b[0] == 0 || b[0] >= 224);                      // "this network", multicast, reserved
    }
}
