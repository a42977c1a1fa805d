using System.Net;
using System.Net.Sockets;

namespace AspireLlm.AppHost.LocalProcesses;

/// <summary>
/// Loopback ports for local servers. Taken below the kernel's ephemeral range on purpose: a port the
/// OS hands out for "any port" (bind to 0) is also what outgoing connections use, so between the
/// check and the server's own bind another process's client connection could take it ("Address
/// already in use"), which happened when tests started servers while other tests made connections.
/// </summary>
public static class FreePorts
{
    private const int Lowest = 10_000;

    /// <summary>Ports already handed out by this process: each server gets its own even before it binds.</summary>
    private static readonly HashSet<int> Given = [];

    public static int Next()
    {
        var (ephemeralLow, _) = EphemeralRange();
        var highest = Math.Max(Lowest + 1_000, ephemeralLow);
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(Lowest, highest);
            lock (Given)
            {
                if (!Given.Contains(port) && IsFree(port))
                {
                    Given.Add(port);
                    return port;
                }
            }
        }

        // Everything below the ephemeral range is busy: fall back to letting the OS choose.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Linux's configured range, or its default where it cannot be read.</summary>
    private static (int Low, int High) EphemeralRange()
    {
        try
        {
            var parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return (int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return (32_768, 60_999);
        }
    }
}
