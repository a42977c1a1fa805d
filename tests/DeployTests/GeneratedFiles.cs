using AspireLlm.DeployGenerator;

namespace AspireLlm.DeployTests;

/// <summary>
/// The AppHost's manifest, published once per test run (about 3 s), and the deployment generated from it
/// and the committed settings: what <c>deploy/generate.sh</c> would write now.
/// </summary>
public sealed class GeneratedFiles : IAsyncLifetime
{
    public string ManifestJson { get; private set; } = "";

    public IReadOnlyDictionary<string, string> Fresh { get; private set; } = new Dictionary<string, string>();

    public async Task InitializeAsync()
    {
        var output = Path.Combine(Path.GetTempPath(), $"aspirellm-manifest-{Guid.NewGuid():N}.json");
        try
        {
            var result = await Processes.RunAsync("dotnet",
                ["run", "--project", Repository.PathOf("AppHost"), "-c", Repository.Configuration, "--no-build", "--no-launch-profile", "--",
                 "--publisher", "manifest", "--output-path", output],
                TimeSpan.FromMinutes(2));
            Assert.True(result.ExitCode == 0, "manifest publishing failed: " + result.Output);
            ManifestJson = await File.ReadAllTextAsync(output);
        }
        finally
        {
            File.Delete(output);
        }

        Fresh = Generator.Generate(AspireManifest.Parse(ManifestJson),
            DeploySettings.Parse(await File.ReadAllTextAsync(Repository.PathOf("deploy/settings.json"))));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>The committed files under deploy/kubernetes and deploy/compose, by path relative to deploy/.</summary>
    public static IReadOnlyDictionary<string, string> Committed()
    {
        var deploy = Repository.PathOf("deploy");
        return new[] { "kubernetes", "compose" }
            .SelectMany(directory => Directory.EnumerateFiles(Path.Combine(deploy, directory), "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
            .ToDictionary(path => Path.GetRelativePath(deploy, path).Replace('\\', '/'), File.ReadAllText, StringComparer.Ordinal);
    }
}

[CollectionDefinition(Name)]
public sealed class GeneratedFilesCollection : ICollectionFixture<GeneratedFiles>
{
    public const string Name = "generated-files";
}

/// <summary>CI fails when the AppHost or deploy/settings.json changed and deploy/generate.sh was not run.</summary>
[Collection(GeneratedFilesCollection.Name)]
public sealed class GeneratedFilesTests(GeneratedFiles generated)
{
    [Fact]
    public void The_committed_deployment_is_what_the_app_host_generates_now()
    {
        var committed = GeneratedFiles.Committed();

        Assert.Equal(generated.Fresh.Keys.Order(StringComparer.Ordinal), committed.Keys.Order(StringComparer.Ordinal));
        foreach (var (path, content) in generated.Fresh)
        {
            Assert.True(content == committed[path], $"deploy/{path} is out of date: run deploy/generate.sh and commit the result.");
        }
    }

    [Fact]
    public void The_manifest_still_describes_every_service_the_deployment_has()
    {
        var manifest = AspireManifest.Parse(generated.ManifestJson);

        Assert.Equal(["api", "dashboard", "migrations", "worker"], manifest.OfType("project.").Order(StringComparer.Ordinal));
        Assert.Equal(["cache", "postgres"], manifest.OfType("container.").Order(StringComparer.Ordinal));
        // Public ingress on Container Apps, the allow-public NetworkPolicy on Kubernetes: only these two.
        Assert.Equal(["api", "dashboard"], manifest.Names.Where(manifest.IsExternal).Order(StringComparer.Ordinal));
    }
}
