using YamlDotNet.Serialization;

namespace AspireLlm.DeployGenerator;

/// <summary>Ordered maps and lists written as YAML, quoting every string that would read back as another type.</summary>
internal static class Yaml
{
    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithQuotingNecessaryStrings()
        .WithIndentedSequences()
        .DisableAliases()
        .Build();

    /// <summary>A mapping in the order given; entries whose value is null are left out.</summary>
    public static Dictionary<string, object> Map(params (string Key, object? Value)[] entries)
    {
        var map = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (key, value) in entries)
        {
            if (value is not null)
            {
                map.Add(key, value);
            }
        }

        return map;
    }

    public static List<object> List(params object?[] items) => [.. items.OfType<object>()];

    /// <summary>Documents separated by <c>---</c>, after a header comment.</summary>
    public static string Documents(string header, IEnumerable<object> documents) =>
        header + string.Join("---\n", documents.Select(document => Serializer.Serialize(document)));
}
