using System.Text.Json;
using System.Text.RegularExpressions;

namespace AspireLlm.DeployGenerator;

/// <summary>The parts of an Aspire manifest (<c>--publisher manifest</c>) a deployment is made from.</summary>
public sealed class AspireManifest
{
    private readonly Dictionary<string, JsonElement> _resources;

    private AspireManifest(Dictionary<string, JsonElement> resources) => _resources = resources;

    public static AspireManifest Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var resources = document.RootElement.GetProperty("resources").EnumerateObject()
            .ToDictionary(property => property.Name, property => property.Value.Clone(), StringComparer.Ordinal);
        return new AspireManifest(resources);
    }

    public IEnumerable<string> Names => _resources.Keys;

    public string TypeOf(string name) => Resource(name).GetProperty("type").GetString() ?? "";

    public IEnumerable<string> OfType(string prefix) => _resources.Keys.Where(name => TypeOf(name).StartsWith(prefix, StringComparison.Ordinal));

    public JsonElement Resource(string name) =>
        _resources.TryGetValue(name, out var resource) ? resource : throw new InvalidOperationException($"The manifest has no resource '{name}'.");

    public IReadOnlyList<KeyValuePair<string, string>> Env(string name) =>
        Resource(name).TryGetProperty("env", out var env)
            ? [.. env.EnumerateObject().Select(property => KeyValuePair.Create(property.Name, property.Value.GetString() ?? ""))]
            : [];

    public IReadOnlyList<string> Args(string name) =>
        Resource(name).TryGetProperty("args", out var args) ? [.. args.EnumerateArray().Select(arg => arg.GetString() ?? "")] : [];

    public string? StringOf(string name, string property) =>
        Resource(name).TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public bool IsSecretParameter(string name) =>
        TypeOf(name) == "parameter.v0"
        && Resource(name).GetProperty("inputs").GetProperty("value").TryGetProperty("secret", out var secret) && secret.GetBoolean();

    /// <summary>A secret parameter without a default (e.g. a provider key) may be left unset.</summary>
    public bool IsOptionalParameter(string name) =>
        !Resource(name).GetProperty("inputs").GetProperty("value").TryGetProperty("default", out _);

    /// <summary>The container port of a container resource's binding.</summary>
    public int TargetPort(string name, string binding) =>
        Resource(name).GetProperty("bindings").GetProperty(binding).TryGetProperty("targetPort", out var port)
            ? port.GetInt32()
            : throw new InvalidOperationException($"Binding '{name}.{binding}' has no targetPort.");

    /// <summary>
    /// Reachable from outside a deployment: the AppHost marked an endpoint external
    /// (<c>WithExternalHttpEndpoints</c>). Everything else is reachable only from our own pods, or not at all.
    /// </summary>
    public bool IsExternal(string name) =>
        Resource(name).TryGetProperty("bindings", out var bindings)
        && bindings.EnumerateObject().Any(binding => binding.Value.TryGetProperty("external", out var external) && external.GetBoolean());

    /// <summary>Another resource's variables name one of this resource's endpoints (it needs a Service).</summary>
    public bool IsReferenced(string name) =>
        Names.Where(other => other != name).Any(other => Env(other).Any(pair => pair.Value.Contains($"{{{name}.bindings.", StringComparison.Ordinal)));

    public string Scheme(string name, string binding) =>
        Resource(name).GetProperty("bindings").GetProperty(binding).GetProperty("scheme").GetString() ?? "tcp";
}

/// <summary>
/// Resolves the manifest's <c>{resource.property}</c> expressions for a target where every resource is
/// reached by its name (a Kubernetes Service, a Compose service) and every project listens on
/// <see cref="Generator.ServicePort"/>. Secret parameters become references the target resolves at run
/// time; their values never appear in the output.
/// </summary>
internal sealed partial class ValueResolver(AspireManifest manifest, Func<string, string> secretReference)
{
    private readonly List<string> _secrets = [];

    /// <summary>The secret parameters the values resolved so far refer to, in order of first use.</summary>
    public IReadOnlyList<string> Secrets => _secrets;

    public string Resolve(string template) => Expression().Replace(template, match => ResolveReference(match.Groups[1].Value));

    private string ResolveReference(string reference)
    {
        var parts = reference.Split('.');
        var name = parts[0];
        var type = manifest.TypeOf(name);
        switch (type, parts[1..])
        {
            case ("parameter.v0", ["value"]) when manifest.IsSecretParameter(name):
                if (!_secrets.Contains(name))
                {
                    _secrets.Add(name);
                }

                return secretReference(name);
            case ("parameter.v0", ["value"]):
                throw new InvalidOperationException($"Parameter '{name}' is not secret; give it a value in the deploy settings instead.");
            case ("annotated.string", _):
                throw new InvalidOperationException(
                    $"'{{{reference}}}' transforms a secret ({manifest.StringOf(name, "filter")}), which a deployment cannot do without holding the value; list the variable in omitEnv.");
            case (_, ["connectionString"]):
                return Resolve(manifest.StringOf(name, "connectionString")
                    ?? throw new InvalidOperationException($"Resource '{name}' has no connection string."));
            case (_, ["bindings", var binding, var property]):
                var port = type.StartsWith("project.", StringComparison.Ordinal) ? Generator.ServicePort : manifest.TargetPort(name, binding);
                return property switch
                {
                    "host" => name,
                    "port" or "targetPort" => port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "scheme" => manifest.Scheme(name, binding),
                    "url" => $"{manifest.Scheme(name, binding)}://{name}:{port}",
                    _ => throw new InvalidOperationException($"Unknown binding property in '{{{reference}}}'."),
                };
            default:
                throw new InvalidOperationException($"Cannot resolve '{{{reference}}}' (a {type}).");
        }
    }

    [GeneratedRegex(@"\{([a-zA-Z0-9_.\-]+)\}")]
    private static partial Regex Expression();
}
