using YamlDotNet.Serialization;

namespace AspireLlm.DeployTests;

/// <summary>
/// The CI workflow, Dependabot's configuration and azure.yaml are valid YAML with the jobs and steps
/// the pipeline depends on, and every script they call exists, is executable and parses.
/// </summary>
public sealed class CiFilesTests
{
    private static Dictionary<object, object> Read(string path) =>
        new Deserializer().Deserialize<Dictionary<object, object>>(File.ReadAllText(Repository.PathOf(path)));

    private static Dictionary<object, object> Map(object value) => (Dictionary<object, object>)value;

    private static List<Dictionary<object, object>> Steps(Dictionary<object, object> job) => [.. ((List<object>)job["steps"]).Select(Map)];

    private static string StepText(Dictionary<object, object> step) =>
        string.Join('\n', step.Values.Select(value => value is Dictionary<object, object> with ? string.Join('\n', with.Values) : value?.ToString() ?? ""));

    [Fact]
    public void The_workflow_builds_tests_and_audits_every_change_and_ships_only_from_main()
    {
        var workflow = Read(".github/workflows/ci.yml");
        var triggers = Map(workflow["on"]);
        Assert.Contains("pull_request", triggers.Keys);
        Assert.Equal(["main"], ((List<object>)Map(triggers["push"])["branches"]).Cast<string>());

        var jobs = Map(workflow["jobs"]);
        Assert.Equal(["build-test", "images", "deploy"], jobs.Keys.Cast<string>());

        var build = string.Join('\n', Steps(Map(jobs["build-test"])).Select(StepText));
        foreach (var expected in new[]
        {
            "dotnet restore AspireLlm.sln --locked-mode", "-warnaserror", "./test.sh", "deploy/generate.sh && git diff --exit-code",
            "dotnet CycloneDX AspireLlm.sln", ".ci/package-audit.sh", "kubectl kustomize deploy/kubernetes",
        })
        {
            Assert.Contains(expected, build);
        }

        var images = Map(jobs["images"]);
        Assert.Equal("build-test", images["needs"]);
        Assert.Contains("refs/heads/main", (string)images["if"]);
        var imageSteps = string.Join('\n', Steps(images).Select(StepText));
        Assert.Contains("-t:PublishContainer", imageSteps);
        Assert.Contains("actions/attest-build-provenance", imageSteps);
        Assert.Contains("cyclonedx-json", imageSteps);
        var matrix = ((List<object>)Map(Map(images["strategy"])["matrix"])["include"]).Select(Map).Select(entry => (string)entry["image"]);
        Assert.Equal(["api", "worker", "dashboard", "migrations"], matrix);
        Assert.Equal("write", Map(images["permissions"])["attestations"]);

        var deploy = Map(jobs["deploy"]);
        Assert.Equal("images", deploy["needs"]);
        var deploySteps = string.Join('\n', Steps(deploy).Select(StepText));
        Assert.Contains("azd up --no-prompt", deploySteps);
        Assert.Contains("deploy/smoke-test.sh", deploySteps);
    }

    [Fact]
    public void Dependabot_updates_nuget_packages_and_github_actions()
    {
        var dependabot = Read(".github/dependabot.yml");

        Assert.Equal(2, Convert.ToInt32(dependabot["version"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(["nuget", "github-actions"], ((List<object>)dependabot["updates"]).Select(Map).Select(update => (string)update["package-ecosystem"]));
    }

    [Fact]
    public void Azd_deploys_the_app_host_to_container_apps()
    {
        var azure = Read("azure.yaml");
        var app = Map(Map(azure["services"])["app"]);

        Assert.Equal("containerapp", app["host"]);
        Assert.Equal("dotnet", app["language"]);
        Assert.True(File.Exists(Repository.PathOf((string)app["project"])));
    }

    [Theory]
    [InlineData("test.sh")]
    [InlineData(".ci/run")]
    [InlineData(".ci/check")]
    [InlineData(".ci/install-servers.sh")]
    [InlineData(".ci/package-audit.sh")]
    [InlineData("deploy/generate.sh")]
    [InlineData("deploy/smoke-test.sh")]
    [InlineData("deploy/smoke-local.sh")]
    public async Task Every_script_the_pipeline_calls_is_executable_and_parses(string script)
    {
        var path = Repository.PathOf(script);

        Assert.True(OperatingSystem.IsWindows() || File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute), $"{script} is not executable");
        var syntax = await Processes.RunAsync("bash", ["-n", path], TimeSpan.FromSeconds(30));
        Assert.True(syntax.ExitCode == 0, syntax.Output);
    }
}
