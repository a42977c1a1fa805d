using System.Text.RegularExpressions;
using AspireLlm.DeployGenerator;
using k8s;
using k8s.Models;

namespace AspireLlm.DeployTests;

/// <summary>
/// Schema-level checks of the committed Kubernetes files: each document is read into the Kubernetes
/// client's typed models strictly (a misspelt or misplaced field fails), then what operations rely on
/// is checked: probes, resources, grace periods, rollouts, disruption budgets, autoscaling, the
/// migrations Job and the wait for it, no secret values, network policies.
/// </summary>
[Collection(GeneratedFilesCollection.Name)]
public sealed partial class KubernetesManifestTests(GeneratedFiles generated)
{
    private static readonly string[] OurServices = ["api", "worker", "dashboard"];

    private static List<object> Documents(string file) =>
        [.. KubernetesYaml.LoadAllFromString(File.ReadAllText(Repository.PathOf($"deploy/kubernetes/{file}")), strict: true)];

    private static List<object> All() =>
        [.. Directory.EnumerateFiles(Repository.PathOf("deploy/kubernetes"), "*.yaml")
            .Where(path => Path.GetFileName(path) != "kustomization.yaml")
            .SelectMany(path => Documents(Path.GetFileName(path)))];

    private static V1Deployment Deployment(string name) => All().OfType<V1Deployment>().Single(deployment => deployment.Metadata.Name == name);

    private static IEnumerable<V1Container> AllContainers() =>
        All().Select(document => document switch
        {
            V1Deployment deployment => deployment.Spec.Template.Spec,
            V1StatefulSet set => set.Spec.Template.Spec,
            V1Job job => job.Spec.Template.Spec,
            _ => null,
        }).OfType<V1PodSpec>().SelectMany(pod => pod.Containers.Concat(pod.InitContainers ?? []));

    [Fact]
    public void Every_kind_an_operator_expects_is_there()
    {
        var kinds = All().Select(document => (((IKubernetesObject<V1ObjectMeta>)document).Kind, ((IKubernetesObject<V1ObjectMeta>)document).Metadata.Name)).ToHashSet();

        foreach (var expected in new[]
        {
            ("Namespace", "aspirellm"), ("Deployment", "api"), ("Deployment", "worker"), ("Deployment", "dashboard"), ("Deployment", "cache"),
            ("StatefulSet", "postgres"), ("Job", "migrations"), ("Service", "api"), ("Service", "dashboard"), ("Service", "cache"), ("Service", "postgres"),
            ("PodDisruptionBudget", "api"), ("PodDisruptionBudget", "worker"), ("PodDisruptionBudget", "dashboard"),
            ("HorizontalPodAutoscaler", "api"), ("NetworkPolicy", "default-deny-ingress"),
        })
        {
            Assert.Contains(expected, kinds);
        }

        // The Worker has no Service (it serves only probes) and is scaled by KEDA, not by a CPU autoscaler.
        Assert.DoesNotContain(("Service", "worker"), kinds);
        Assert.DoesNotContain(("HorizontalPodAutoscaler", "worker"), kinds);
    }

    [Theory]
    [InlineData("api")]
    [InlineData("worker")]
    [InlineData("dashboard")]
    public void Our_services_have_probes_resources_a_safe_rollout_and_run_locked_down(string name)
    {
        var deployment = Deployment(name);
        var pod = deployment.Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);

        Assert.Equal("/health", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/alive", container.LivenessProbe.HttpGet.Path);
        Assert.Equal("/alive", container.StartupProbe.HttpGet.Path);
        // The startup probe gives a cold start (JIT on a small CPU limit) at least a minute before liveness counts.
        Assert.True(container.StartupProbe.PeriodSeconds * container.StartupProbe.FailureThreshold >= 60);
        foreach (var resource in new[] { "cpu", "memory" })
        {
            Assert.True(container.Resources.Requests[resource].ToDecimal() <= container.Resources.Limits[resource].ToDecimal(), $"{name} {resource}");
        }

        Assert.Equal("0", deployment.Spec.Strategy.RollingUpdate.MaxUnavailable.Value);
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.Equal(Generator.ImageUser, pod.SecurityContext.RunAsUser);
        Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
        Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
        Assert.Contains("ALL", container.SecurityContext.Capabilities.Drop);
        Assert.Equal("http", container.Ports.Single().Name);
        Assert.Equal(Generator.ServicePort, container.Ports.Single().ContainerPort);
        Assert.Contains(All().OfType<V1PodDisruptionBudget>(), budget => budget.Metadata.Name == name && budget.Spec.MaxUnavailable.Value == "1");
    }

    [Fact]
    public void The_api_is_small_and_strict_and_the_worker_larger()
    {
        var api = Deployment("api").Spec.Template.Spec.Containers.Single().Resources;
        var worker = Deployment("worker").Spec.Template.Spec.Containers.Single().Resources;

        Assert.True(api.Limits["memory"].ToDecimal() < worker.Limits["memory"].ToDecimal());
        Assert.True(api.Limits["cpu"].ToDecimal() < worker.Limits["cpu"].ToDecimal());
        Assert.True(api.Requests["memory"].ToDecimal() < worker.Requests["memory"].ToDecimal());
    }

    [Fact]
    public void Grace_periods_outlast_what_the_processes_take_to_stop()
    {
        // The Worker's host waits for its grace, Hangfire's 5 s requeue margin and 5 s more (Worker/Jobs/JobsExtensions.cs).
        var worker = Deployment("worker").Spec.Template.Spec;
        var workerGrace = int.Parse(Env(worker, "Worker__ShutdownGraceSeconds") ?? "30", System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(worker.TerminationGracePeriodSeconds > workerGrace + 5 + 5, $"worker: {worker.TerminationGracePeriodSeconds} s");

        // The Api drains (readiness false, then the delay), then gives in-flight requests the grace.
        foreach (var name in new[] { "api", "dashboard" })
        {
            var pod = Deployment(name).Spec.Template.Spec;
            var drain = int.Parse(Env(pod, "Shutdown__DrainDelaySeconds")!, System.Globalization.CultureInfo.InvariantCulture);
            var grace = int.Parse(Env(pod, "Shutdown__GraceSeconds")!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(pod.TerminationGracePeriodSeconds > drain + grace, $"{name}: {pod.TerminationGracePeriodSeconds} s");
            // Readiness must notice the drain well within the delay, or new requests would still arrive at the close.
            var readiness = pod.Containers.Single().ReadinessProbe;
            Assert.True(readiness.PeriodSeconds * readiness.FailureThreshold < drain, $"{name}: readiness notices after the drain delay");
        }
    }

    [Fact]
    public void Migrations_run_as_a_job_that_the_services_using_the_database_wait_for()
    {
        var job = All().OfType<V1Job>().Single();
        Assert.Equal("OnFailure", job.Spec.Template.Spec.RestartPolicy);
        var image = job.Spec.Template.Spec.Containers.Single().Image;
        Assert.StartsWith("aspirellm-migrations:", image);

        foreach (var name in new[] { "api", "worker" })
        {
            var wait = Assert.Single(Deployment(name).Spec.Template.Spec.InitContainers);
            Assert.Equal(image, wait.Image);
            Assert.Equal(["--wait"], wait.Args);
            Assert.Contains(wait.Env, variable => variable.Name == "ConnectionStrings__llmdb");
        }
    }

    [Fact]
    public void No_secret_value_is_written_anywhere()
    {
        var manifest = AspireManifest.Parse(generated.ManifestJson);
        var secrets = manifest.Names.Where(manifest.IsSecretParameter).ToHashSet();

        Assert.Empty(All().OfType<V1Secret>());
        foreach (var variable in AllContainers().SelectMany(container => container.Env ?? []))
        {
            if (variable.ValueFrom is { } from)
            {
                Assert.Equal("aspirellm-secrets", from.SecretKeyRef.Name);
                Assert.Contains(from.SecretKeyRef.Key, secrets);
                continue;
            }

            // A literal value may mention a secret only through a variable defined from the Secret.
            Assert.DoesNotMatch(SecretLooking(), variable.Name);
            var withoutReferences = SecretReference().Replace(variable.Value, "");
            Assert.DoesNotMatch(PasswordSetting(), withoutReferences);
        }
    }

    [Fact]
    public void Only_the_public_services_are_reachable_from_outside_and_the_stores_only_from_our_pods()
    {
        var policies = All().OfType<V1NetworkPolicy>().ToList();

        var deny = policies.Single(policy => policy.Metadata.Name == "default-deny-ingress");
        Assert.Empty(deny.Spec.PodSelector.MatchLabels ?? new Dictionary<string, string>());
        Assert.Null(deny.Spec.Ingress);
        Assert.Equal(["Ingress"], deny.Spec.PolicyTypes);

        // A rule without "from" lets anything in: only the Api and the dashboard have one.
        var open = policies.Where(policy => policy.Spec.Ingress?.Any(rule => rule.FromProperty is null) == true).ToList();
        var selected = Assert.Single(open).Spec.PodSelector.MatchExpressions.Single();
        Assert.Equal(["api", "dashboard"], selected.Values.Order());

        foreach (var store in new[] { "cache", "postgres" })
        {
            var policy = policies.Single(policy => policy.Spec.PodSelector.MatchLabels is { } labels && labels.TryGetValue("app.kubernetes.io/name", out var selected) && selected == store);
            var peer = policy.Spec.Ingress.Single().FromProperty.Single();
            Assert.Equal("aspirellm", peer.PodSelector.MatchLabels["app.kubernetes.io/part-of"]);
            Assert.Null(peer.NamespaceSelector);
        }
    }

    [Fact]
    public void The_api_scales_on_cpu_and_the_worker_on_queue_depth()
    {
        var hpa = All().OfType<V2HorizontalPodAutoscaler>().Single();
        Assert.Equal("api", hpa.Spec.ScaleTargetRef.Name);
        Assert.Equal("cpu", hpa.Spec.Metrics.Single().Resource.Name);
        Assert.True(hpa.Spec.MinReplicas >= 2);
        Assert.Null(Deployment("api").Spec.Replicas); // the autoscaler owns it

        var keda = new YamlDotNet.Serialization.Deserializer().Deserialize<Dictionary<string, object>>(
            File.ReadAllText(Repository.PathOf("deploy/kubernetes/keda/worker-scaledobject.yaml")).Split("---\n")[1]);
        var spec = (Dictionary<object, object>)keda["spec"];
        Assert.Equal("ScaledObject", keda["kind"]);
        Assert.Equal("worker", ((Dictionary<object, object>)spec["scaleTargetRef"])["name"]);
        var trigger = (Dictionary<object, object>)((List<object>)spec["triggers"]).Single();
        Assert.Equal("postgresql", trigger["type"]);
        Assert.Contains("FROM jobs", (string)((Dictionary<object, object>)trigger["metadata"])["query"]);

        // Without KEDA (the component left out) the Worker keeps its replicas; with it, KEDA owns the count.
        Assert.Equal(2, Deployment("worker").Spec.Replicas);
        var component = File.ReadAllText(Repository.PathOf("deploy/kubernetes/keda/kustomization.yaml"));
        Assert.Contains("name: worker", component);
        Assert.Contains("\"op\": \"remove\", \"path\": \"/spec/replicas\"", component);
    }

    [Fact]
    public void The_kustomization_lists_every_file_and_image()
    {
        var kustomization = new YamlDotNet.Serialization.Deserializer().Deserialize<Dictionary<string, object>>(
            File.ReadAllText(Repository.PathOf("deploy/kubernetes/kustomization.yaml")));
        var listed = ((List<object>)kustomization["resources"]).Cast<string>().ToHashSet();
        var files = Directory.EnumerateFiles(Repository.PathOf("deploy/kubernetes"), "*.yaml").Select(Path.GetFileName)
            .Where(file => file != "kustomization.yaml").ToHashSet();
        Assert.Equal(files.Order(), listed.Order());
        Assert.Equal(["keda"], ((List<object>)kustomization["components"]).Cast<string>());

        var images = ((List<object>)kustomization["images"]).Cast<Dictionary<object, object>>().Select(image => (string)image["name"]).ToHashSet();
        foreach (var container in AllContainers().Where(container => container.Image.StartsWith("aspirellm-", StringComparison.Ordinal)))
        {
            Assert.Contains(container.Image.Split(':')[0], images);
        }
    }

    private static string? Env(V1PodSpec pod, string name) => pod.Containers.Single().Env.SingleOrDefault(variable => variable.Name == name)?.Value;

    [GeneratedRegex("(?i)(key|password|secret|token)$")]
    private static partial Regex SecretLooking();

    [GeneratedRegex(@"\$\(SECRET_[A-Z_]+\)")]
    private static partial Regex SecretReference();

    [GeneratedRegex("(?i)password=[^;,]")]
    private static partial Regex PasswordSetting();
}
