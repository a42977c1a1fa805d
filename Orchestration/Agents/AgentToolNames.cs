using System.Text.RegularExpressions;

namespace AspireLlm.Orchestration.Agents;

/// <summary>The built-in tools' names, and what a tool name (or a key's allowed-tool pattern) may look like.</summary>
public static partial class AgentToolNames
{
    /// <summary>Asks the person at the other end; the task waits (without a Worker) until they answer.</summary>
    public const string AskUser = "ask_user";

    /// <summary>Fetches a URL from the agent's allowed hosts, behind the same address guard as webhooks.</summary>
    public const string HttpGet = "http_get";

    public static bool IsBuiltIn(string name) => name is AskUser or HttpGet;

    /// <summary>A name a model can call (OpenAI's function name rule), or <c>{server}_*</c>.</summary>
    public static bool IsValidPattern(string pattern) => NamePattern().IsMatch(pattern);

    /// <summary>Whether <paramref name="tool"/> is named by <paramref name="pattern"/> (exactly, or as one of <c>{server}_*</c>).</summary>
    public static bool Matches(string pattern, string tool) =>
        pattern == tool || (pattern.EndsWith("_*", StringComparison.Ordinal) && tool.StartsWith(pattern[..^1], StringComparison.Ordinal));

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$|^[a-zA-Z0-9-]{1,62}_\\*$")]
    private static partial Regex NamePattern();
}
