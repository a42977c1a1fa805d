using static AspireLlm.DeployGenerator.Yaml;

namespace AspireLlm.DeployGenerator;

internal sealed partial class KubernetesWriter
{
    /// <summary>
    /// A container resource of the manifest (Redis, Postgres) as it describes it: a StatefulSet when it has
    /// a volume (one claim per volume), a Deployment otherwise, and a Service. Teams with managed Redis and
    /// Postgres delete these and point the connection strings elsewhere.
    /// </summary>
    private IEnumerable<object> Backing(string name)
    {
        var backing = settings.Backing[name];
        var resource = manifest.Resource(name);
        var binding = resource.GetProperty("bindings").EnumerateObject().First();
        var port = binding.Value.GetProperty("targetPort").GetInt32();
        var volumes = resource.TryGetProperty("volumes", out var declared)
            ? declared.EnumerateArray().Select((volume, index) => (Name: $"{name}-data{(index == 0 ? "" : index.ToString(System.Globalization.CultureInfo.InvariantCulture))}",
                Target: volume.GetProperty("target").GetString()!)).ToList()
            : [];
        if (volumes.Count > 0 && backing.Storage is null)
        {
            throw new InvalidOperationException($"'{name}' has a volume; give backing.{name}.storage a size.");
        }

        var env = new EnvBuilder(manifest, settings);
        env.AddManifest(name);
        var container = Map(
            ("name", name),
            ("image", manifest.StringOf(name, "image")),
            ("command", manifest.StringOf(name, "entrypoint") is { } entrypoint ? List(entrypoint) : null),
            ("args", manifest.Args(name) is { Count: > 0 } args ? List([.. args]) : null),
            ("ports", List(Map(("name", binding.Name), ("containerPort", port)))),
            ("env", env.Build()),
            ("resources", Resources(backing.Requests, backing.Limits)),
            ("readinessProbe", Map(("tcpSocket", Map(("port", binding.Name))), ("periodSeconds", 5))),
            ("livenessProbe", Map(("tcpSocket", Map(("port", binding.Name))), ("periodSeconds", 10), ("failureThreshold", 6))),
            ("securityContext", Map(("allowPrivilegeEscalation", false))),
            ("volumeMounts", volumes.Count > 0 ? List([.. volumes.Select(volume => Map(("name", volume.Name), ("mountPath", volume.Target)))]) : null));
        var podSpec = Map(
            ("automountServiceAccountToken", false),
            ("securityContext", Map(("seccompProfile", Map(("type", "RuntimeDefault"))))),
            ("containers", List(container)));
        var template = Map(("metadata", Map(("labels", Labels(name)))), ("spec", podSpec));
        var selector = Map(("matchLabels", Map((NameLabel, name))));

        yield return volumes.Count > 0
            ? Map(
                ("apiVersion", "apps/v1"),
                ("kind", "StatefulSet"),
                ("metadata", Metadata(name, Labels(name))),
                ("spec", Map(
                    ("serviceName", name),
                    ("replicas", 1),
                    ("selector", selector),
                    ("template", template),
                    ("volumeClaimTemplates", List([.. volumes.Select(volume => Map(
                        ("metadata", Map(("name", volume.Name))),
                        ("spec", Map(
                            ("accessModes", List("ReadWriteOnce")),
                            ("resources", Map(("requests", Map(("storage", backing.Storage))))))))) ])))))
            : Map(
                ("apiVersion", "apps/v1"),
                ("kind", "Deployment"),
                ("metadata", Metadata(name, Labels(name))),
                ("spec", Map(("replicas", 1), ("strategy", Map(("type", "Recreate"))), ("selector", selector), ("template", template))));

        yield return Map(
            ("apiVersion", "v1"),
            ("kind", "Service"),
            ("metadata", Metadata(name, Labels(name))),
            ("spec", Map(
                ("selector", Map((NameLabel, name))),
                ("ports", List(Map(("name", binding.Name), ("port", port), ("targetPort", binding.Name)))))));
    }

    /// <summary>
    /// Nothing gets in unless a policy lets it: the public services from anywhere (an ingress controller or
    /// load balancer in front), each container resource only from this application's pods.
    /// </summary>
    private IEnumerable<object> NetworkPolicies()
    {
        yield return NetworkPolicy("default-deny-ingress", Map(), ingress: null);

        var publicServices = settings.Services.Keys.Where(manifest.IsExternal).ToList();
        yield return NetworkPolicy("allow-public", Map(("matchExpressions", List(Map(("key", NameLabel), ("operator", "In"), ("values", List([.. publicServices])))))),
            ingress: List(Map(("ports", List(Map(("protocol", "TCP"), ("port", Generator.ServicePort)))))));

        foreach (var name in manifest.OfType("container."))
        {
            var port = manifest.Resource(name).GetProperty("bindings").EnumerateObject().First().Value.GetProperty("targetPort").GetInt32();
            yield return NetworkPolicy($"allow-{name}-from-app", Map(("matchLabels", Map((NameLabel, name)))),
                ingress: List(Map(
                    ("from", List(Map(("podSelector", Map(("matchLabels", Map((PartOfLabel, settings.PartOf)))))))),
                    ("ports", List(Map(("protocol", "TCP"), ("port", port)))))));
        }
    }

    private Dictionary<string, object> NetworkPolicy(string name, Dictionary<string, object> podSelector, List<object>? ingress) => Map(
        ("apiVersion", "networking.k8s.io/v1"),
        ("kind", "NetworkPolicy"),
        ("metadata", Metadata(name, Labels(null))),
        ("spec", Map(("podSelector", podSelector), ("policyTypes", List("Ingress")), ("ingress", ingress))));

    /// <summary>
    /// KEDA scales the Deployment on the PostgreSQL query (jobs waiting or running); KEDA's operator runs the
    /// query itself, so a policy lets it reach Postgres. The password comes from the Secret.
    /// </summary>
    private IEnumerable<object> QueueScaler(string name, QueueScaling scaling)
    {
        var postgres = manifest.OfType("container.").Single(resource => manifest.StringOf(resource, "image")?.Contains("postgres", StringComparison.Ordinal) == true);
        var port = manifest.TargetPort(postgres, "tcp");
        var database = manifest.OfType("value.").Single(resource => manifest.StringOf(resource, "connectionString")?.StartsWith($"{{{postgres}.", StringComparison.Ordinal) == true);
        var password = manifest.Names.Single(resource => resource == $"{postgres}-password");

        yield return Map(
            ("apiVersion", "keda.sh/v1alpha1"),
            ("kind", "TriggerAuthentication"),
            ("metadata", Metadata($"{name}-postgres", Labels(name))),
            ("spec", Map(("secretTargetRef", List(Map(("parameter", "password"), ("name", settings.SecretName), ("key", password)))))));
        yield return Map(
            ("apiVersion", "keda.sh/v1alpha1"),
            ("kind", "ScaledObject"),
            ("metadata", Metadata(name, Labels(name))),
            ("spec", Map(
                ("scaleTargetRef", Map(("name", name))),
                ("minReplicaCount", scaling.MinReplicas),
                ("maxReplicaCount", scaling.MaxReplicas),
                ("pollingInterval", 15),
                ("cooldownPeriod", 300),
                ("triggers", List(Map(
                    ("type", "postgresql"),
                    ("authenticationRef", Map(("name", $"{name}-postgres"))),
                    ("metadata", Map(
                        ("host", postgres),
                        ("port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                        ("userName", "postgres"),
                        ("dbName", database),
                        ("sslmode", "disable"),
                        ("query", scaling.Query),
                        ("targetQueryValue", scaling.JobsPerReplica.ToString(System.Globalization.CultureInfo.InvariantCulture))))))))));
        yield return NetworkPolicy($"allow-{postgres}-from-keda", Map(("matchLabels", Map((NameLabel, postgres)))),
            ingress: List(Map(
                ("from", List(Map(("namespaceSelector", Map(("matchLabels", Map(("kubernetes.io/metadata.name", "keda")))))))),
                ("ports", List(Map(("protocol", "TCP"), ("port", port)))))));
    }
}
