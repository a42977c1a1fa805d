using System.Globalization;
using static AspireLlm.DeployGenerator.Yaml;

namespace AspireLlm.DeployGenerator;

/// <summary>
/// A Compose file for one host: Redis and Postgres with health checks, the migrations step that must
/// finish before the Api and the Worker start, our services read-only and non-root with their limits and
/// stop grace periods. Secrets are <c>${NAME}</c> variables (from <c>.env</c> or the environment); a
/// required one that is missing stops <c>docker compose up</c> with its name.
/// </summary>
internal sealed class ComposeWriter(AspireManifest manifest, DeploySettings settings)
{
    private readonly SortedSet<string> _secrets = new(StringComparer.Ordinal);

    public IEnumerable<(string Path, string Content)> Write()
    {
        var services = Map();
        var volumes = Map();
        foreach (var name in manifest.OfType("container."))
        {
            services.Add(name, Backing(name, volumes));
        }

        foreach (var (name, service) in settings.Services)
        {
            services.Add(name, Project(name, service));
        }

        var compose = Map(("name", settings.PartOf), ("services", services), ("volumes", volumes.Count > 0 ? volumes : null));
        yield return ("compose.yaml", Documents(Generator.Header + "# docker compose --env-file .env up -d   (see README, Deploying)\n", [compose]));
        yield return (".env.example", EnvExample());
    }

    private Dictionary<string, object> Backing(string name, Dictionary<string, object> volumes)
    {
        var backing = settings.Backing[name];
        var resource = manifest.Resource(name);
        var image = manifest.StringOf(name, "image") ?? "";
        var mounts = new List<object>();
        if (resource.TryGetProperty("volumes", out var declared))
        {
            var index = 0;
            foreach (var volume in declared.EnumerateArray())
            {
                var volumeName = $"{name}-data{(index++ == 0 ? "" : index.ToString(CultureInfo.InvariantCulture))}";
                volumes.Add(volumeName, Map());
                mounts.Add($"{volumeName}:{volume.GetProperty("target").GetString()}");
            }
        }

        // Compose interpolates $VAR itself; a shell variable meant for the container is written $$VAR.
        var args = manifest.Args(name).Select(arg => arg.Replace("$", "$$", StringComparison.Ordinal)).ToList();
        return Map(
            ("image", image),
            ("entrypoint", manifest.StringOf(name, "entrypoint") is { } entrypoint ? List(entrypoint) : null),
            ("command", args.Count > 0 ? List([.. args]) : null),
            ("environment", Environment(name, extra: null)),
            ("volumes", mounts.Count > 0 ? mounts : null),
            ("healthcheck", HealthCheck(name, image)),
            ("restart", "unless-stopped"),
            ("deploy", Limits(backing.Limits)));
    }

    private static Dictionary<string, object>? HealthCheck(string name, string image) =>
        image.Contains("redis", StringComparison.Ordinal)
            ? Map(("test", List("CMD-SHELL", "redis-cli -a \"$$REDIS_PASSWORD\" --no-auth-warning ping | grep -q PONG")), ("interval", "2s"), ("retries", 30))
            : image.Contains("postgres", StringComparison.Ordinal)
                ? Map(("test", List("CMD-SHELL", "pg_isready -U postgres")), ("interval", "2s"), ("retries", 30))
                : throw new InvalidOperationException($"No health check is known for the container '{name}' ({image}).");

    private Dictionary<string, object> Project(string name, ServiceSettings service)
    {
        var dependsOn = Map();
        foreach (var reference in References(name))
        {
            dependsOn.Add(reference, Map(("condition", settings.Services.TryGetValue(reference, out var target) ? (target.OneShot ? "service_completed_successfully" : "service_started") : "service_healthy")));
        }

        if (service.WaitForMigrations && settings.Services.Single(candidate => candidate.Value.OneShot).Key is var migrations)
        {
            dependsOn.TryAdd(migrations, Map(("condition", "service_completed_successfully")));
        }

        return Map(
            ("image", $"{service.Image}:${{IMAGE_TAG:-{settings.ImageTag}}}"),
            ("environment", Environment(name, service.Env)),
            ("ports", service.HostPort is { } hostPort ? List($"{hostPort}:{Generator.ServicePort}") : null),
            ("depends_on", dependsOn.Count > 0 ? dependsOn : null),
            ("restart", service.OneShot ? "on-failure" : "unless-stopped"),
            ("user", $"{Generator.ImageUser}:{Generator.ImageUser}"),
            ("read_only", true),
            ("tmpfs", List("/tmp")),
            ("cap_drop", List("ALL")),
            ("security_opt", List("no-new-privileges:true")),
            ("stop_grace_period", service.OneShot ? null : $"{service.TerminationGracePeriodSeconds}s"),
            ("deploy", Limits(service.Limits)));
    }

    /// <summary>The resources a project's variables mention by name (its dependencies).</summary>
    private IEnumerable<string> References(string name) =>
        manifest.Env(name).SelectMany(pair => manifest.Names.Where(resource =>
                (manifest.TypeOf(resource).StartsWith("container.", StringComparison.Ordinal) || manifest.TypeOf(resource).StartsWith("project.", StringComparison.Ordinal))
                && !settings.OmitEnv.Contains(pair.Key)
                && (pair.Value.Contains($"{{{resource}.", StringComparison.Ordinal) || ConnectionStringMentions(pair.Value, resource))))
            .Distinct(StringComparer.Ordinal)
            .Where(resource => resource != name);

    private bool ConnectionStringMentions(string template, string resource) =>
        manifest.OfType("value.").Any(value => template.Contains($"{{{value}.", StringComparison.Ordinal)
            && manifest.StringOf(value, "connectionString")?.Contains($"{{{resource}.", StringComparison.Ordinal) == true);

    private Dictionary<string, object> Environment(string name, IReadOnlyDictionary<string, string>? extra)
    {
        var environment = Map();
        var resolver = new ValueResolver(manifest, parameter => Variable(parameter));
        foreach (var (key, template) in manifest.Env(name).Where(pair => !settings.OmitEnv.Contains(pair.Key)))
        {
            environment.Add(key, resolver.Resolve(template));
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        return environment;
    }

    private string Variable(string parameter)
    {
        _secrets.Add(parameter);
        var variable = Generator.EnvName(parameter);
        return manifest.IsOptionalParameter(parameter) ? $"${{{variable}:-}}" : $"${{{variable}:?set {variable} in .env}}";
    }

    private static Dictionary<string, object> Limits(Quantities limits) =>
        Map(("resources", Map(("limits", Map(("cpus", CpuCores(limits.Cpu)), ("memory", limits.Memory.Replace("i", "", StringComparison.Ordinal).ToLowerInvariant()))))));

    private static string CpuCores(string cpu) => cpu.EndsWith('m')
        ? (double.Parse(cpu[..^1], CultureInfo.InvariantCulture) / 1000).ToString("0.###", CultureInfo.InvariantCulture)
        : cpu;

    private string EnvExample()
    {
        var lines = new List<string>
        {
            "# Copy to .env (never commit it) and fill in. Compose substitutes these into compose.yaml.",
            "# Required values stop `docker compose up` when missing; generate them with e.g. `openssl rand -hex 32`",
            "# (a password must not contain ';', which would end it inside a connection string).",
            "IMAGE_TAG=" + settings.ImageTag,
        };
        foreach (var parameter in _secrets)
        {
            lines.Add($"{Generator.EnvName(parameter)}=" + (manifest.IsOptionalParameter(parameter) ? "   # optional" : ""));
        }

        return string.Join('\n', lines) + "\n";
    }
}
