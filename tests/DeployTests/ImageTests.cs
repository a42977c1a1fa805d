using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Xunit.Abstractions;

namespace AspireLlm.DeployTests;

/// <summary>
/// Builds each service's image archive the way CI does (<c>dotnet publish -t:PublishContainer</c>, no
/// Docker daemon) on a stand-in base image (see <see cref="StandInRegistry"/>), then reads the OCI
/// archive: user, command, port, environment, labels, and what the application layer holds.
/// </summary>
public sealed class ImageArchives : IAsyncLifetime
{
    public const string RepositoryUrl = "https://example.invalid/aspirellm";
    public const string Version = "1.2.3";

    private readonly StandInRegistry _registry = new();
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"aspirellm-images-{Guid.NewGuid():N}");

    public static readonly (string Image, string Project, string[] ExtraProperties)[] Images =
    [
        ("aspirellm-api", "Api", []),
        ("aspirellm-worker", "Worker", []),
        ("aspirellm-dashboard", "Dashboard.Web", []),
        ("aspirellm-migrations", "Worker", ["-p:MigrationsImage=true"]),
    ];

    public Dictionary<string, string> Archives { get; } = [];

    public Dictionary<string, string> BuildOutput { get; } = [];

    public string BaseImage => _registry.BaseImage;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        foreach (var (image, project, extra) in Images)
        {
            var archive = Path.Combine(_directory, image + ".tar.gz");
            // --no-build: the test run's own build output is published, never rebuilt under running tests.
            var result = await Processes.RunAsync("dotnet",
                ["publish", Repository.PathOf($"{project}/{project}.csproj"), "-c", Repository.Configuration, "--no-build", "-t:PublishContainer",
                 $"-p:ContainerBaseImage={_registry.BaseImage}", $"-p:ContainerArchiveOutputPath={archive}",
                 $"-p:PublishDir={Path.Combine(_directory, "publish-" + image)}/", $"-p:RepositoryUrl={RepositoryUrl}", $"-p:Version={Version}",
                 .. extra],
                TimeSpan.FromMinutes(3),
                new Dictionary<string, string> { ["DOTNET_CONTAINER_INSECURE_REGISTRIES"] = $"localhost:{_registry.Port}" });
            BuildOutput[image] = result.Output;
            Assert.True(result.ExitCode == 0, $"{image}: {result.Output}");
            Archives[image] = archive;
        }
    }

    public Task DisposeAsync()
    {
        _registry.Dispose();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }
}

public sealed class ImageTests(ImageArchives archives, ITestOutputHelper output) : IClassFixture<ImageArchives>
{
    public static TheoryData<string, string> Images()
    {
        var data = new TheoryData<string, string>();
        foreach (var (image, project, _) in ImageArchives.Images)
        {
            data.Add(image, project);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Images))]
    public async Task Each_image_runs_as_a_non_root_user_on_port_8080_with_its_command_labels_and_runtime_settings(string image, string project)
    {
        var archive = await OciArchive.ReadAsync(archives.Archives[image]);
        var config = archive.Config.GetProperty("config");

        Assert.Equal("1654", config.GetProperty("User").GetString());
        string[] command = ["dotnet", $"/app/AspireLlm.{project}.dll", .. image == "aspirellm-migrations" ? ["migrate"] : Array.Empty<string>()];
        Assert.Equal(command, config.GetProperty("Entrypoint").EnumerateArray().Select(part => part.GetString()));
        Assert.Equal(["8080/tcp"], config.GetProperty("ExposedPorts").EnumerateObject().Select(port => port.Name));
        var env = config.GetProperty("Env").EnumerateArray().Select(variable => variable.GetString()).ToList();
        Assert.Contains("ASPNETCORE_HTTP_PORTS=8080", env);
        Assert.Contains("DOTNET_gcServer=1", env);
        Assert.Contains("DOTNET_GCDynamicAdaptationMode=1", env);
        Assert.Contains("DOTNET_TC_CallCountingDelayMs=0", env);
        Assert.Contains("DOTNET_TC_CallCountThreshold=500", env);
        Assert.Contains("Orchestration__HeavyWorkPriority=Idle", env);
        Assert.Equal(project == "Api", env.Contains("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1"));

        var labels = config.GetProperty("Labels");
        Assert.Equal(ImageArchives.RepositoryUrl, labels.GetProperty("org.opencontainers.image.source").GetString());
        Assert.Matches("^[0-9a-f]{40}$", labels.GetProperty("org.opencontainers.image.revision").GetString());
        Assert.Equal(ImageArchives.Version, labels.GetProperty("org.opencontainers.image.version").GetString());
        Assert.Equal(archives.BaseImage, labels.GetProperty("org.opencontainers.image.base.name").GetString());

        // One layer on top of the base: the published application, and no SDK, sources or build tools.
        var app = archive.Layers[^1];
        Assert.Contains($"app/AspireLlm.{project}.dll", app.Files);
        Assert.DoesNotContain(app.Files, file => file.Contains("/sdk/", StringComparison.Ordinal) || file.EndsWith(".cs", StringComparison.Ordinal)
            || file.EndsWith(".csproj", StringComparison.Ordinal) || file.Contains("Microsoft.Build", StringComparison.Ordinal));
        // The Api and the Worker carry the local embedding model (about 80 MiB compressed; its weights do not
        // compress) and ONNX Runtime for both Linux architectures (about 20 MiB); the rest is about 13 MiB.
        var budget = project == "Dashboard.Web" ? 100 : 128;
        Assert.True(app.CompressedBytes < budget * 1024 * 1024, $"application layer is {app.CompressedBytes} bytes");

        output.WriteLine($"{image}: archive {new FileInfo(archives.Archives[image]).Length / 1024.0 / 1024.0:F1} MiB; application layer " +
            $"{app.CompressedBytes / 1024.0 / 1024.0:F1} MiB compressed, {app.UncompressedBytes / 1024.0 / 1024.0:F1} MiB unpacked, {app.Files.Count} files " +
            "(plus the base image, here a stand-in)");
    }

    [Theory]
    [InlineData("Api")]
    [InlineData("Worker")]
    [InlineData("Dashboard.Web")]
    public async Task Without_an_override_each_image_is_built_on_the_chiseled_aspnet_runtime(string project)
    {
        // What CI builds on: the ASP.NET Core runtime (no SDK), Ubuntu chiseled (no shell, no package manager).
        var result = await Processes.RunAsync("dotnet",
            ["msbuild", Repository.PathOf($"{project}/{project}.csproj"), "-t:ComputeContainerConfig", "-getProperty:ContainerBaseImage", "-getProperty:ContainerUser"],
            TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 0, result.Output);
        using var properties = JsonDocument.Parse(result.Output[result.Output.IndexOf('{', StringComparison.Ordinal)..]);
        Assert.Equal("mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled-extra", properties.RootElement.GetProperty("Properties").GetProperty("ContainerBaseImage").GetString());
        Assert.Equal("1654", properties.RootElement.GetProperty("Properties").GetProperty("ContainerUser").GetString());
    }
}

/// <summary>An OCI image layout archive as the SDK writes it: index, manifest, config, layers.</summary>
internal sealed record OciArchive(JsonElement Config, IReadOnlyList<OciArchive.Layer> Layers)
{
    public sealed record Layer(long CompressedBytes, long UncompressedBytes, IReadOnlyList<string> Files);

    public static async Task<OciArchive> ReadAsync(string path)
    {
        var blobs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        await using (var file = File.OpenRead(path))
        await using (var reader = new TarReader(file))
        {
            while (await reader.GetNextEntryAsync() is { } entry)
            {
                if (entry.DataStream is not null)
                {
                    using var buffer = new MemoryStream();
                    await entry.DataStream.CopyToAsync(buffer);
                    blobs[entry.Name.TrimStart('.', '/')] = buffer.ToArray();
                }
            }
        }

        byte[] Blob(string digest) => blobs["blobs/" + digest.Replace(':', '/')];
        using var index = JsonDocument.Parse(blobs["index.json"]);
        var manifestDigest = index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        using var manifest = JsonDocument.Parse(Blob(manifestDigest));
        var config = JsonDocument.Parse(Blob(manifest.RootElement.GetProperty("config").GetProperty("digest").GetString()!)).RootElement.Clone();
        var layers = new List<Layer>();
        foreach (var layer in manifest.RootElement.GetProperty("layers").EnumerateArray())
        {
            var compressed = Blob(layer.GetProperty("digest").GetString()!);
            using var gzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
            using var unpacked = new MemoryStream();
            await gzip.CopyToAsync(unpacked);
            unpacked.Position = 0;
            var files = new List<string>();
            await using (var reader = new TarReader(unpacked, leaveOpen: true))
            {
                while (await reader.GetNextEntryAsync() is { } entry)
                {
                    files.Add(entry.Name.TrimStart('.', '/'));
                }
            }

            layers.Add(new Layer(compressed.Length, unpacked.Length, files));
        }

        return new OciArchive(config, layers);
    }
}
