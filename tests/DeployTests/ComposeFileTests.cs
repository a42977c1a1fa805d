using System.Text.RegularExpressions;
using YamlDotNet.Serialization;

namespace AspireLlm.DeployTests;

/// <summary>
/// The committed Compose file: every service of the application, the start order (stores healthy, the
/// migrations finished, then the services), our containers locked down with limits and stop grace
/// periods, and secrets only as variables that .env.example lists.
/// </summary>
public sealed partial class ComposeFileTests
{
    private static readonly Dictionary<object, object> Compose = new Deserializer().Deserialize<Dictionary<object, object>>(
        File.ReadAllText(Repository.PathOf("deploy/compose/compose.yaml")));

    private static Dictionary<object, object> Service(string name) => (Dictionary<object, object>)((Dictionary<object, object>)Compose["services"])[name];

    private static Dictionary<object, object> Map(object value) => (Dictionary<object, object>)value;

    [Fact]
    public void Every_service_starts_after_what_it_needs()
    {
        Assert.Equal(["cache", "postgres", "api", "worker", "dashboard", "migrations"], Map(Compose["services"]).Keys.Cast<string>());
        foreach (var name in new[] { "api", "worker" })
        {
            var dependsOn = Map(Service(name)["depends_on"]);
            Assert.Equal("service_completed_successfully", Map(dependsOn["migrations"])["condition"]);
            Assert.Equal("service_healthy", Map(dependsOn["postgres"])["condition"]);
            Assert.Equal("service_healthy", Map(dependsOn["cache"])["condition"]);
        }

        Assert.Equal("service_healthy", Map(Map(Service("migrations")["depends_on"])["postgres"])["condition"]);
        Assert.NotNull(Service("cache")["healthcheck"]);
        Assert.NotNull(Service("postgres")["healthcheck"]);
        Assert.Equal("on-failure", Service("migrations")["restart"]);
    }

    [Theory]
    [InlineData("api", 45)]
    [InlineData("worker", 60)]
    [InlineData("dashboard", 40)]
    [InlineData("migrations", null)]
    public void Our_containers_run_locked_down_with_limits_and_the_kubernetes_grace(string name, int? graceSeconds)
    {
        var service = Service(name);

        Assert.Equal("1654:1654", service["user"]);
        Assert.Equal("true", service["read_only"]);
        Assert.Equal(["ALL"], ((List<object>)service["cap_drop"]).Cast<string>());
        Assert.Equal(["/tmp"], ((List<object>)service["tmpfs"]).Cast<string>());
        var limits = Map(Map(Map(service["deploy"])["resources"])["limits"]);
        Assert.True(limits.ContainsKey("cpus") && limits.ContainsKey("memory"));
        Assert.StartsWith($"aspirellm-{name}:${{IMAGE_TAG:-", (string)service["image"]);
        Assert.Equal(graceSeconds is null ? null : $"{graceSeconds}s", service.GetValueOrDefault("stop_grace_period"));
    }

    [Fact]
    public void Only_the_api_and_the_dashboard_publish_a_port()
    {
        var published = Map(Compose["services"]).Where(service => Map(service.Value).ContainsKey("ports")).Select(service => (string)service.Key);

        Assert.Equal(["api", "dashboard"], published);
    }

    [Fact]
    public void Secrets_are_variables_that_the_example_env_file_lists()
    {
        var text = File.ReadAllText(Repository.PathOf("deploy/compose/compose.yaml"));
        var example = File.ReadAllText(Repository.PathOf("deploy/compose/.env.example"));
        var used = Variable().Matches(text).Select(match => match.Groups[1].Value).ToHashSet();

        Assert.Contains("POSTGRES_PASSWORD", used);
        Assert.Contains("ADMIN_KEY", used);
        foreach (var variable in used)
        {
            Assert.Matches($"(?m)^{variable}=", example);
        }

        foreach (var (name, service) in Map(Compose["services"]))
        {
            if (!Map(service).TryGetValue("environment", out var environment))
            {
                continue;
            }

            foreach (var (key, value) in Map(environment))
            {
                var withoutVariables = Variable().Replace((string)value, "");
                Assert.DoesNotMatch("(?i)password=[^;,]", withoutVariables);
                if (Regex.IsMatch((string)key, "(?i)(key|password|secret)$"))
                {
                    Assert.True(withoutVariables.Length == 0, $"{name}: {key} has a literal value");
                }
            }
        }
    }

    [GeneratedRegex(@"\$\{([A-Z_]+)(:[-?][^}]*)?\}")]
    private static partial Regex Variable();
}
