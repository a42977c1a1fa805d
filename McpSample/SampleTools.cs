using System.ComponentModel;
using ModelContextProtocol.Server;

namespace AspireLlm.McpSample;

/// <summary>Tools an agent can use offline: deterministic, quick, with nothing to reach beyond this process.</summary>
[McpServerToolType]
public sealed class SampleTools(TimeProvider timeProvider)
{
    public const string Path = "/mcp";

    [McpServerTool(Name = "now"), Description("The current date and time in UTC (ISO 8601).")]
    public string Now() => timeProvider.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture);

    [McpServerTool(Name = "add"), Description("Adds two numbers.")]
    public static double Add([Description("The first number.")] double a, [Description("The second number.")] double b) => a + b;

    [McpServerTool(Name = "count_words"), Description("Counts the words of a text.")]
    public static int CountWords([Description("The text.")] string text) =>
        text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
}
