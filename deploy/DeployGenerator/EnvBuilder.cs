using static AspireLlm.DeployGenerator.Yaml;

namespace AspireLlm.DeployGenerator;

/// <summary>
/// A container's <c>env</c> list for Kubernetes. A variable that is exactly one secret parameter reads
/// it from the Secret; a value that contains secrets (a connection string with a password) refers to
/// helper variables defined before it with <c>$(NAME)</c>, which the kubelet expands. Values never
/// appear in the output.
/// </summary>
internal sealed class EnvBuilder(AspireManifest manifest, DeploySettings settings)
{
    private readonly List<object> _helpers = [];
    private readonly HashSet<string> _helperNames = new(StringComparer.Ordinal);
    private readonly List<object> _variables = [];

    public void AddManifest(string resource, Func<string, bool>? only = null)
    {
        foreach (var (key, template) in manifest.Env(resource))
        {
            if (settings.OmitEnv.Contains(key) || only?.Invoke(key) == false)
            {
                continue;
            }

            if (Expression.IsSingleSecret(manifest, template, out var parameter))
            {
                _variables.Add(Map(("name", key), ("valueFrom", SecretRef(parameter))));
                continue;
            }

            var resolver = new ValueResolver(manifest, parameter => $"$({HelperName(parameter)})");
            var value = resolver.Resolve(template);
            foreach (var secret in resolver.Secrets.Where(secret => _helperNames.Add(HelperName(secret))))
            {
                _helpers.Add(Map(("name", HelperName(secret)), ("valueFrom", SecretRef(secret))));
            }

            _variables.Add(Map(("name", key), ("value", value)));
        }
    }

    public void AddLiteral(string key, string value) => _variables.Add(Map(("name", key), ("value", value)));

    public List<object> Build() => [.. _helpers, .. _variables];

    private static string HelperName(string parameter) => "SECRET_" + Generator.EnvName(parameter);

    private Dictionary<string, object> SecretRef(string parameter) => Map(("secretKeyRef", Map(
        ("name", settings.SecretName),
        ("key", parameter),
        ("optional", manifest.IsOptionalParameter(parameter) ? true : null))));
}

internal static class Expression
{
    /// <summary>True when <paramref name="template"/> is <c>{p.value}</c> for a secret parameter p.</summary>
    public static bool IsSingleSecret(AspireManifest manifest, string template, out string parameter)
    {
        parameter = "";
        if (template.Length < 9 || template[0] != '{' || template[^1] != '}' || template.IndexOf('{', 1) >= 0 || !template.EndsWith(".value}", StringComparison.Ordinal))
        {
            return false;
        }

        parameter = template[1..^".value}".Length];
        return manifest.Names.Contains(parameter) && manifest.IsSecretParameter(parameter);
    }
}
