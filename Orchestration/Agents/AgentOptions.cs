using System.ComponentModel.DataAnnotations;

namespace AspireLlm.Orchestration.Agents;

/// <summary>
/// The <c>Agents</c> section: the agents this deployment offers (<c>Agents:{name}:Model</c>, …) beside
/// the settings every agent shares (<c>Agents:InputTimeoutSeconds</c>, …). Agents are configured, not
/// coded per request: a client names one and gives it a task.
/// </summary>
public sealed class AgentOptions
{
    public const string SectionName = "Agents";

    /// <summary>A task waiting this long for a person's answer fails with <c>input_timeout</c>.</summary>
    [Range(1, 7 * 86_400)]
    public int InputTimeoutSeconds { get; set; } = 600;

    /// <summary>How long a task outlives the WebSocket session that watched it, so the client can resume; then it is cancelled.</summary>
    [Range(1, 86_400)]
    public int DetachGraceSeconds { get; set; } = 30;

    /// <summary>WebSocket sessions one key may hold open across every Api replica (429 on upgrade beyond).</summary>
    [Range(1, 100_000)]
    public int MaxSessionsPerKey { get; set; } = 20;

    /// <summary>Agent tasks one key may have pending, running or waiting for input at once.</summary>
    [Range(1, 100_000)]
    public int MaxTasksPerKey { get; set; } = 20;

    /// <summary>Protocol-level ping interval; a peer that does not answer within another interval is dropped.</summary>
    [Range(1, 3600)]
    public int HeartbeatSeconds { get; set; } = 15;

    /// <summary>Largest client frame accepted; a larger one closes the connection with 1009.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxFrameBytes { get; set; } = 64 * 1024;

    /// <summary>Let <c>http_get</c> reach private, loopback and link-local addresses (tests, on-premises); never on by default.</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Largest <c>http_get</c> response body handed to the model (longer bodies are cut).</summary>
    [Range(256, 1024 * 1024)]
    public int HttpGetMaxBytes { get; set; } = 16 * 1024;

    [Range(1, 300)]
    public int HttpGetTimeoutSeconds { get; set; } = 10;

    /// <summary>MCP servers whose tools agents may use, by name (tools are then named <c>{server}_{tool}</c>).</summary>
    public Dictionary<string, McpServerOptions> McpServers { get; set; } = [];

    /// <summary>The agents, by name (read from the section's other children).</summary>
    public Dictionary<string, AgentDefinition> Definitions { get; } = new(StringComparer.Ordinal);

    /// <summary>Section children that are settings, not agents.</summary>
    internal static readonly HashSet<string> SettingNames = new(
        typeof(AgentOptions).GetProperties().Select(property => property.Name), StringComparer.OrdinalIgnoreCase);
}

/// <summary>One agent: the model alias it thinks with, its instructions, the tools it may call and its limits.</summary>
public sealed class AgentDefinition
{
    /// <summary>A model alias; every call goes through the whole pipeline (admission, cache rules, fallback, breakers).</summary>
    [Required]
    public string Model { get; set; } = "";

    /// <summary>The system message the task starts with.</summary>
    public string Instructions { get; set; } = "";

    /// <summary><c>ask_user</c>, <c>http_get</c>, an MCP tool as <c>{server}_{tool}</c>, or all of a server's as <c>{server}_*</c>.</summary>
    public List<string> Tools { get; set; } = [];

    /// <summary>Model calls a task may make before it fails with <c>max_steps_exceeded</c>.</summary>
    [Range(1, 1000)]
    public int MaxSteps { get; set; } = 20;

    /// <summary>
    /// How long one turn may take: the agent's work from the start, or from a person's answer, to its
    /// next question or its end. Time spent waiting for a person is bounded by <c>InputTimeoutSeconds</c> instead.
    /// </summary>
    [Range(1, 86_400)]
    public int DeadlineSeconds { get; set; } = 300;

    /// <summary>Hosts <c>http_get</c> may fetch from (exact names, or <c>*.example.com</c>); none means none.</summary>
    public List<string> AllowedHosts { get; set; } = [];
}

/// <summary>An MCP server reached over Streamable HTTP (or SSE).</summary>
public sealed class McpServerOptions
{
    [Required]
    public Uri? Endpoint { get; set; }
}
