using AspireLlm.DeployGenerator;

namespace AspireLlm.DeployTests;

/// <summary>The generator on a small hand-written manifest: how values, secrets and settings come out.</summary>
public sealed class GeneratorTests
{
    private const string Manifest = """
        {
          "resources": {
            "db": {
              "type": "container.v0",
              "connectionString": "Host={db.bindings.tcp.host};Port={db.bindings.tcp.port};Password={db-password.value}",
              "image": "docker.io/library/postgres:18.3",
              "volumes": [ { "name": "machine-specific-name-1a2b", "target": "/var/lib/postgresql", "readOnly": false } ],
              "env": { "POSTGRES_PASSWORD": "{db-password.value}" },
              "bindings": { "tcp": { "scheme": "tcp", "protocol": "tcp", "transport": "tcp", "targetPort": 5432 } }
            },
            "appdb": { "type": "value.v0", "connectionString": "{db.connectionString};Database=appdb" },
            "db-password": { "type": "parameter.v0", "value": "{db-password.inputs.value}",
              "inputs": { "value": { "type": "string", "secret": true, "default": { "generate": { "minLength": 22 } } } } },
            "db-password-uri": { "type": "annotated.string", "value": "{db-password.value}", "filter": "uri" },
            "provider-key": { "type": "parameter.v0", "value": "{provider-key.inputs.value}",
              "inputs": { "value": { "type": "string", "secret": true } } },
            "setup": { "type": "project.v0", "path": "Worker.csproj", "args": [ "migrate" ],
              "env": { "ConnectionStrings__appdb": "{appdb.connectionString}" } },
            "web": { "type": "project.v0", "path": "Api.csproj",
              "env": {
                "HTTP_PORTS": "{web.bindings.http.targetPort}",
                "ConnectionStrings__appdb": "{appdb.connectionString}",
                "Provider__Key": "{provider-key.value}",
                "DB_URI": "postgresql://u:{db-password-uri.value}@{db.bindings.tcp.host}"
              },
              "bindings": { "http": { "scheme": "http", "protocol": "tcp", "transport": "http", "external": true } } },
            "ui": { "type": "project.v0", "path": "Ui.csproj",
              "env": { "services__web__http__0": "{web.bindings.http.url}" },
              "bindings": { "http": { "scheme": "http", "protocol": "tcp", "transport": "http" } } }
          }
        }
        """;

    private static DeploySettings Settings(Func<DeploySettings, DeploySettings>? change = null)
    {
        var quantities = new Quantities("100m", "128Mi");
        var settings = new DeploySettings
        {
            Namespace = "ns",
            PartOf = "app",
            SecretName = "app-secrets",
            OmitEnv = ["DB_URI"],
            Services = new Dictionary<string, ServiceSettings>
            {
                ["web"] = new() { Image = "app-web", Replicas = 3, HostPort = 8080, Requests = quantities, Limits = quantities, WaitForMigrations = true,
                    TerminationGracePeriodSeconds = 45, Env = new Dictionary<string, string> { ["A"] = "1" }, KubernetesEnv = new Dictionary<string, string> { ["K"] = "2" } },
                ["ui"] = new() { Image = "app-ui", Requests = quantities, Limits = quantities },
                ["setup"] = new() { Image = "app-setup", OneShot = true, ImageArgs = ["migrate"], Requests = quantities, Limits = quantities },
            },
            Backing = new Dictionary<string, BackingSettings> { ["db"] = new() { Requests = quantities, Limits = quantities, Storage = "1Gi" } },
        };
        return change is null ? settings : change(settings);
    }

    private static IReadOnlyDictionary<string, string> Generate(DeploySettings? settings = null) =>
        Generator.Generate(AspireManifest.Parse(Manifest), settings ?? Settings());

    [Fact]
    public void A_variable_that_is_one_secret_reads_it_from_the_secret_and_a_composed_value_refers_to_a_helper()
    {
        var web = Generate()["kubernetes/web.yaml"];

        Assert.Contains("""
                    - name: Provider__Key
                      valueFrom:
                        secretKeyRef:
                          name: app-secrets
                          key: provider-key
                          optional: true
        """, web);
        // The helper is defined before the variable that uses it (the kubelet expands only earlier ones).
        var helper = web.IndexOf("- name: SECRET_DB_PASSWORD", StringComparison.Ordinal);
        var composed = web.IndexOf("value: Host=db;Port=5432;Password=$(SECRET_DB_PASSWORD);Database=appdb", StringComparison.Ordinal);
        Assert.True(helper >= 0 && composed > helper, web);
        Assert.DoesNotContain("DB_URI", web);
    }

    [Fact]
    public void Projects_listen_on_the_image_port_and_are_reached_by_their_name()
    {
        var files = Generate();

        Assert.Contains("value: http://web:8080", files["kubernetes/ui.yaml"]);
        Assert.Contains("""
                    - name: HTTP_PORTS
                      value: "8080"
        """, files["kubernetes/web.yaml"]);
    }

    [Fact]
    public void Only_what_the_app_host_marks_external_is_reachable_from_outside_and_only_what_is_referenced_gets_a_service()
    {
        var files = Generate();

        Assert.Contains("        values:\n          - web\n  policyTypes:", files["kubernetes/network-policies.yaml"]);
        Assert.Contains("kind: Service", files["kubernetes/web.yaml"]);
        Assert.DoesNotContain("kind: Service", files["kubernetes/ui.yaml"]);
    }

    [Fact]
    public void A_one_shot_project_is_a_job_and_the_services_that_wait_for_it_get_an_init_container()
    {
        var files = Generate();

        Assert.Contains("kind: Job", files["kubernetes/setup.yaml"]);
        Assert.DoesNotContain("kind: Deployment", files["kubernetes/setup.yaml"]);
        Assert.Contains("- name: wait-for-setup", files["kubernetes/web.yaml"]);
        Assert.DoesNotContain("wait-for-setup", files["kubernetes/ui.yaml"]);
        Assert.Contains("condition: service_completed_successfully", files["compose/compose.yaml"]);
    }

    [Fact]
    public void Volumes_get_stable_names_not_the_machine_specific_ones_of_the_manifest()
    {
        var files = Generate();

        Assert.Contains("kind: StatefulSet", files["kubernetes/db.yaml"]);
        Assert.Contains("name: db-data", files["kubernetes/db.yaml"]);
        Assert.Contains("- db-data:/var/lib/postgresql", files["compose/compose.yaml"]);
        Assert.DoesNotContain(files.Values, content => content.Contains("machine-specific", StringComparison.Ordinal));
    }

    [Fact]
    public void Compose_requires_secrets_with_defaults_and_leaves_optional_ones_empty()
    {
        var files = Generate();

        Assert.Contains("Password=${DB_PASSWORD:?set DB_PASSWORD in .env}", files["compose/compose.yaml"]);
        Assert.Contains("Provider__Key: ${PROVIDER_KEY:-}", files["compose/compose.yaml"]);
        Assert.Contains("DB_PASSWORD=\n", files["compose/.env.example"]);
        // Settings env goes to both; Kubernetes-only env (the drain delay) only to Kubernetes.
        Assert.Contains("A: \"1\"", files["compose/compose.yaml"]);
        Assert.DoesNotContain("K: \"2\"", files["compose/compose.yaml"]);
        Assert.Contains("- name: K", files["kubernetes/web.yaml"]);
    }

    [Fact]
    public void A_transformed_secret_cannot_be_deployed_unless_its_variable_is_omitted()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Generate(Settings(settings => settings with { OmitEnv = [] })));

        Assert.Contains("omitEnv", error.Message);
    }

    [Fact]
    public void Settings_and_manifest_must_name_the_same_projects()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Generate(Settings(settings => settings with
        {
            Services = settings.Services.Where(service => service.Key != "ui").ToDictionary(),
        })));

        Assert.Contains("no settings for [ui]", error.Message);
    }

    [Fact]
    public void A_one_shot_whose_arguments_changed_in_the_app_host_is_refused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Generate(Settings(settings => settings with
        {
            Services = settings.Services.ToDictionary(service => service.Key,
                service => service.Key == "setup" ? service.Value with { ImageArgs = ["other"] } : service.Value),
        })));

        Assert.Contains("imageArgs", error.Message);
    }

    [Fact]
    public void The_same_inputs_give_the_same_bytes()
    {
        Assert.Equal(Generate(), Generate());
    }
}
