using System.Text.Json;
using System.Text.Json.Serialization;

namespace AspireLlm.DeployGenerator;

/// <summary>
/// What the Aspire manifest does not carry and a deployment needs: replicas, resources, grace periods,
/// autoscaling, which services are public. Read from <c>deploy/settings.json</c>.
/// </summary>
public sealed record DeploySettings
{
    public required string Namespace { get; init; }
    public required string PartOf { get; init; }

    /// <summary>The Kubernetes Secret every secret parameter is read from (created by the operator, never generated).</summary>
    public required string SecretName { get; init; }

    public string ImageTag { get; init; } = "latest";

    /// <summary>Manifest variables our services do not read (Aspire's per-property connection variables).</summary>
    public IReadOnlyList<string> OmitEnv { get; init; } = [];

    public required IReadOnlyDictionary<string, ServiceSettings> Services { get; init; }
    public IReadOnlyDictionary<string, BackingSettings> Backing { get; init; } = new Dictionary<string, BackingSettings>();

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public static DeploySettings Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        // "$comment" documents the file; everything else must be a known setting.
        var trimmed = document.RootElement.EnumerateObject().Where(property => !property.Name.StartsWith('$'))
            .ToDictionary(property => property.Name, property => property.Value);
        return JsonSerializer.Deserialize<DeploySettings>(JsonSerializer.Serialize(trimmed), Options)
            ?? throw new InvalidOperationException("deploy settings are empty");
    }
}

public sealed record ServiceSettings
{
    public required string Image { get; init; }
    public int Replicas { get; init; } = 1;

    /// <summary>The port Compose publishes on the host (for the services the AppHost marks external).</summary>
    public int? HostPort { get; init; }

    public required Quantities Requests { get; init; }
    public required Quantities Limits { get; init; }
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    /// <summary>Only where a load balancer routes by readiness (the drain delay): Compose has none.</summary>
    public IReadOnlyDictionary<string, string> KubernetesEnv { get; init; } = new Dictionary<string, string>();
    public int TerminationGracePeriodSeconds { get; init; } = 30;

    /// <summary>Hold the pods in an init container until the migrations step has run.</summary>
    public bool WaitForMigrations { get; init; }

    /// <summary>The arguments the image already carries (its command); the manifest's args must equal them.</summary>
    public IReadOnlyList<string> ImageArgs { get; init; } = [];

    /// <summary>Runs once per deployment and exits (a Kubernetes Job, a Compose service the others wait on).</summary>
    public bool OneShot { get; init; }

    public CpuAutoscale? Autoscale { get; init; }
    public QueueScaling? QueueScaling { get; init; }
}

public sealed record Quantities(string Cpu, string Memory);

public sealed record CpuAutoscale(int MinReplicas, int MaxReplicas, int CpuUtilization);

/// <summary>KEDA's PostgreSQL scaler: replicas = ceil(query result / jobs per replica), within the bounds.</summary>
public sealed record QueueScaling(int MinReplicas, int MaxReplicas, int JobsPerReplica, string Query);

public sealed record BackingSettings
{
    public required Quantities Requests { get; init; }
    public required Quantities Limits { get; init; }

    /// <summary>Size of the persistent volume claim for the manifest's volume, if it has one.</summary>
    public string? Storage { get; init; }
}
