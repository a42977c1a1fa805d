using static AspireLlm.DeployGenerator.Yaml;

namespace AspireLlm.DeployGenerator;

/// <summary>
/// A Kustomize directory: per project a Deployment (or a Job for a one-shot) with probes on
/// <c>/health</c> (readiness) and <c>/alive</c> (liveness, startup), resources, a grace period, a
/// PodDisruptionBudget and an autoscaler; per container resource a Deployment or StatefulSet; Services;
/// NetworkPolicies; and a KEDA component that scales the Worker on queue depth.
/// </summary>
internal sealed partial class KubernetesWriter(AspireManifest manifest, DeploySettings settings)
{
    private const string NameLabel = "app.kubernetes.io/name";
    private const string PartOfLabel = "app.kubernetes.io/part-of";
    private const string KedaDirectory = "keda";

    public IEnumerable<(string Path, string Content)> Write()
    {
        var resources = new List<string> { "namespace.yaml" };
        var files = new List<(string, string)>
        {
            ("namespace.yaml", Documents(Generator.Header,
                [Map(("apiVersion", "v1"), ("kind", "Namespace"), ("metadata", Map(("name", settings.Namespace), ("labels", Labels(null)))))])),
        };

        foreach (var name in manifest.OfType("container."))
        {
            files.Add(($"{name}.yaml", Documents(Generator.Header, Backing(name))));
            resources.Add($"{name}.yaml");
        }

        foreach (var (name, service) in settings.Services)
        {
            files.Add(($"{name}.yaml", Documents(Generator.Header, service.OneShot ? [OneShotJob(name, service)] : Project(name, service))));
            resources.Add($"{name}.yaml");
        }

        files.Add(("network-policies.yaml", Documents(Generator.Header, NetworkPolicies())));
        resources.Add("network-policies.yaml");

        var scaled = settings.Services.Where(service => service.Value.QueueScaling is not null).ToList();
        if (scaled.Count > 0)
        {
            files.Add(($"{KedaDirectory}/kustomization.yaml", Documents(Generator.Header,
            [
                Map(("apiVersion", "kustomize.config.k8s.io/v1alpha1"), ("kind", "Component"),
                    ("resources", List([.. scaled.Select(service => $"{service.Key}-scaledobject.yaml")])),
                    ("patches", List([.. scaled.Select(service => Map(
                        ("target", Map(("kind", "Deployment"), ("name", service.Key))),
                        ("patch", """[{"op": "remove", "path": "/spec/replicas"}]""")))]))),
            ])));
            foreach (var (name, service) in scaled)
            {
                files.Add(($"{KedaDirectory}/{name}-scaledobject.yaml", Documents(Generator.Header, QueueScaler(name, service.QueueScaling!))));
            }
        }

        files.Add(("kustomization.yaml", Documents(Generator.Header,
        [
            Map(
                ("apiVersion", "kustomize.config.k8s.io/v1beta1"),
                ("kind", "Kustomization"),
                ("namespace", settings.Namespace),
                ("resources", List([.. resources])),
                ("components", scaled.Count > 0 ? List(KedaDirectory) : null),
                ("images", List([.. settings.Services.Values.Select(service => service.Image).Distinct()
                    .Select(image => Map(("name", image), ("newName", image), ("newTag", settings.ImageTag)))]))),
        ])));
        return files;
    }

    private Dictionary<string, object> Labels(string? name) => Map((NameLabel, name), (PartOfLabel, settings.PartOf));

    private static Dictionary<string, object> Metadata(string name, Dictionary<string, object> labels) =>
        Map(("name", name), ("labels", labels));

    private IEnumerable<object> Project(string name, ServiceSettings service)
    {
        var podSpec = PodSpec(name, service, restartPolicy: null);
        yield return Map(
            ("apiVersion", "apps/v1"),
            ("kind", "Deployment"),
            ("metadata", Metadata(name, Labels(name))),
            ("spec", Map(
                // An autoscaler owns the replica count; setting it here too would reset it on every apply. (The
                // KEDA component removes the Worker's, so that without KEDA the Worker still has its replicas.)
                ("replicas", service.Autoscale is null ? service.Replicas : null),
                ("revisionHistoryLimit", 5),
                // A new pod must be ready before an old one is told to drain: capacity never dips during a rollout.
                ("strategy", Map(("type", "RollingUpdate"), ("rollingUpdate", Map(("maxUnavailable", 0), ("maxSurge", 1))))),
                ("selector", Map(("matchLabels", Map((NameLabel, name))))),
                ("template", Map(("metadata", Map(("labels", Labels(name)))), ("spec", podSpec)))))
        );

        if (manifest.IsExternal(name) || manifest.IsReferenced(name))
        {
            yield return Map(
                ("apiVersion", "v1"),
                ("kind", "Service"),
                ("metadata", Metadata(name, Labels(name))),
                ("spec", Map(
                    ("selector", Map((NameLabel, name))),
                    ("ports", List(Map(("name", "http"), ("port", Generator.ServicePort), ("targetPort", "http")))))));
        }

        yield return Map(
            ("apiVersion", "policy/v1"),
            ("kind", "PodDisruptionBudget"),
            ("metadata", Metadata(name, Labels(name))),
            ("spec", Map(("maxUnavailable", 1), ("selector", Map(("matchLabels", Map((NameLabel, name))))))));

        if (service.Autoscale is { } autoscale)
        {
            yield return Map(
                ("apiVersion", "autoscaling/v2"),
                ("kind", "HorizontalPodAutoscaler"),
                ("metadata", Metadata(name, Labels(name))),
                ("spec", Map(
                    ("scaleTargetRef", Map(("apiVersion", "apps/v1"), ("kind", "Deployment"), ("name", name))),
                    ("minReplicas", autoscale.MinReplicas),
                    ("maxReplicas", autoscale.MaxReplicas),
                    ("metrics", List(Map(
                        ("type", "Resource"),
                        ("resource", Map(("name", "cpu"), ("target", Map(("type", "Utilization"), ("averageUtilization", autoscale.CpuUtilization)))))))),
                    // Scale down slowly: a replica that goes drains its streams, which is cheap but not free.
                    ("behavior", Map(("scaleDown", Map(("stabilizationWindowSeconds", 300))))))));
        }
    }

    private Dictionary<string, object> OneShotJob(string name, ServiceSettings service) => Map(
        ("apiVersion", "batch/v1"),
        ("kind", "Job"),
        ("metadata", Metadata(name, Labels(name))),
        ("spec", Map(
            ("backoffLimit", 6),
            // A finished Job is removed after a while, so the next `kubectl apply` (with a new image) creates it
            // again instead of failing on the Job's immutable template. The step is idempotent.
            ("ttlSecondsAfterFinished", 300),
            ("template", Map(("metadata", Map(("labels", Labels(name)))), ("spec", PodSpec(name, service, restartPolicy: "OnFailure")))))));

    private Dictionary<string, object> PodSpec(string name, ServiceSettings service, string? restartPolicy)
    {
        var env = new EnvBuilder(manifest, settings);
        env.AddManifest(name);
        foreach (var (key, value) in service.Env.Concat(service.KubernetesEnv))
        {
            env.AddLiteral(key, value);
        }

        var container = Map(
            ("name", name),
            ("image", $"{service.Image}:{settings.ImageTag}"),
            ("ports", service.OneShot ? null : List(Map(("name", "http"), ("containerPort", Generator.ServicePort)))),
            ("env", env.Build()),
            ("resources", Resources(service.Requests, service.Limits)),
            ("startupProbe", service.OneShot ? null : Probe("/alive", periodSeconds: 2, failureThreshold: 60)),
            ("readinessProbe", service.OneShot ? null : Probe("/health", periodSeconds: 2, failureThreshold: 2)),
            ("livenessProbe", service.OneShot ? null : Probe("/alive", periodSeconds: 10, failureThreshold: 3)),
            ("securityContext", ContainerSecurity()),
            ("volumeMounts", List(Map(("name", "tmp"), ("mountPath", "/tmp")))));

        return Map(
            ("restartPolicy", restartPolicy),
            ("terminationGracePeriodSeconds", service.OneShot ? null : service.TerminationGracePeriodSeconds),
            ("automountServiceAccountToken", false),
            ("securityContext", Map(
                ("runAsNonRoot", true),
                ("runAsUser", Generator.ImageUser),
                ("runAsGroup", Generator.ImageUser),
                ("seccompProfile", Map(("type", "RuntimeDefault"))))),
            ("initContainers", service.WaitForMigrations ? List(WaitForMigrations()) : null),
            ("containers", List(container)),
            ("volumes", List(Map(("name", "tmp"), ("emptyDir", Map(("sizeLimit", "64Mi")))))));
    }

    /// <summary>
    /// Holds a pod until the migrations Job has done its work: the migrations image with <c>--wait</c>
    /// reads the schema's state and changes nothing, so it needs no access to the Kubernetes API.
    /// </summary>
    private Dictionary<string, object> WaitForMigrations()
    {
        var (name, migrations) = settings.Services.Single(service => service.Value.OneShot);
        var env = new EnvBuilder(manifest, settings);
        env.AddManifest(name, only: key => key.StartsWith("ConnectionStrings__", StringComparison.Ordinal));
        return Map(
            ("name", "wait-for-" + name),
            ("image", $"{migrations.Image}:{settings.ImageTag}"),
            ("args", List("--wait")),
            ("env", env.Build()),
            ("resources", Resources(new Quantities("50m", "64Mi"), new Quantities("250m", "192Mi"))),
            ("securityContext", ContainerSecurity()),
            ("volumeMounts", List(Map(("name", "tmp"), ("mountPath", "/tmp")))));
    }

    private static Dictionary<string, object> ContainerSecurity() => Map(
        ("allowPrivilegeEscalation", false),
        ("readOnlyRootFilesystem", true),
        ("capabilities", Map(("drop", List("ALL")))));

    private static Dictionary<string, object> Resources(Quantities requests, Quantities limits) => Map(
        ("requests", Map(("cpu", requests.Cpu), ("memory", requests.Memory))),
        ("limits", Map(("cpu", limits.Cpu), ("memory", limits.Memory))));

    private static Dictionary<string, object> Probe(string path, int periodSeconds, int failureThreshold) => Map(
        ("httpGet", Map(("path", path), ("port", "http"))),
        ("periodSeconds", periodSeconds),
        ("timeoutSeconds", 2),
        ("failureThreshold", failureThreshold));
}
