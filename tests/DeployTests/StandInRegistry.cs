using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AspireLlm.DeployTests;

/// <summary>
/// A read-only OCI registry on loopback serving one small base image, so that the .NET SDK's
/// PublishContainer can run here: mcr.microsoft.com (the real chiseled base) cannot be reached from
/// these machines. The stand-in's config deliberately says root and no port: what the built images say
/// about their user, port and command must come from our project settings, not from the base.
/// </summary>
public sealed class StandInRegistry : IDisposable
{
    public const string Repository = "stand-in/aspnet";
    public const string Tag = "10.0";

    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, byte[]> _blobs = new(StringComparer.Ordinal);
    private readonly byte[] _manifest;
    private readonly Task _serving;

    public StandInRegistry()
    {
        var (layer, diffId) = BaseLayer();
        var config = JsonSerializer.SerializeToUtf8Bytes(new
        {
            architecture = "amd64",
            os = "linux",
            config = new { Env = new[] { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" }, User = "0", WorkingDir = "/" },
            rootfs = new { type = "layers", diff_ids = new[] { diffId } },
        });
        _blobs[Digest(config)] = config;
        _blobs[Digest(layer)] = layer;
        _manifest = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schemaVersion = 2,
            mediaType = "application/vnd.oci.image.manifest.v1+json",
            config = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = Digest(config), size = config.Length },
            layers = new[] { new { mediaType = "application/vnd.oci.image.layer.v1.tar+gzip", digest = Digest(layer), size = layer.Length } },
        });

        Port = FreePort();
        _listener.Prefixes.Add($"http://localhost:{Port}/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public int Port { get; }

    /// <summary>The image reference to pass as ContainerBaseImage.</summary>
    public string BaseImage => $"localhost:{Port}/{Repository}:{Tag}";

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            var path = context.Request.Url!.AbsolutePath;
            var (status, body, type) = path switch
            {
                "/v2/" => (200, "{}"u8.ToArray(), "application/json"),
                _ when path == $"/v2/{Repository}/manifests/{Tag}" || path == $"/v2/{Repository}/manifests/{Digest(_manifest)}" =>
                    (200, _manifest, "application/vnd.oci.image.manifest.v1+json"),
                _ when path.StartsWith($"/v2/{Repository}/blobs/", StringComparison.Ordinal) && _blobs.TryGetValue(path.Split('/')[^1], out var blob) =>
                    (200, blob, "application/octet-stream"),
                _ => (404, [], "text/plain"),
            };
            context.Response.StatusCode = status;
            context.Response.ContentType = type;
            context.Response.ContentLength64 = body.Length;
            if (status == 200)
            {
                context.Response.Headers["Docker-Content-Digest"] = path.Contains("/manifests/", StringComparison.Ordinal) ? Digest(_manifest) : path.Split('/')[^1];
            }

            if (context.Request.HttpMethod != "HEAD")
            {
                await context.Response.OutputStream.WriteAsync(body);
            }

            context.Response.Close();
        }
    }

    /// <summary>A layer with the users a chiseled .NET image has (root, and app with uid 1654).</summary>
    private static (byte[] Gzipped, string DiffId) BaseLayer()
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, content) in new[]
            {
                ("etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\napp:x:1654:1654::/home/app:/sbin/nologin\n"),
                ("etc/group", "root:x:0:\napp:x:1654:\n"),
            })
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
                {
                    DataStream = new MemoryStream(Encoding.ASCII.GetBytes(content)),
                    ModificationTime = DateTimeOffset.UnixEpoch,
                });
            }
        }

        var raw = tar.ToArray();
        using var gzipped = new MemoryStream();
        using (var gzip = new GZipStream(gzipped, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(raw);
        }

        return (gzipped.ToArray(), Digest(raw));
    }

    private static string Digest(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(5));
    }
}
