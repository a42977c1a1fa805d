using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AspireLlm.Orchestration.Agents;

public static class AgentsExtensions
{
    /// <summary>
    /// Binds <c>Agents</c> (shared settings plus one child per agent), adds the default <c>assistant</c>
    /// when none is configured, and validates it at start: an agent naming an unknown model alias, tool
    /// or MCP server stops the process with a message naming the setting. Used by the Api and the Worker.
    /// </summary>
    public static IHostApplicationBuilder AddAgentOptions(this IHostApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(AgentOptions.SectionName);
        builder.Services.AddOptions<AgentOptions>()
            .Bind(section)
            .Configure(options => ReadDefinitions(section, options))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<AgentOptions>, DefaultAgent>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>());
        builder.Services.TryAddSingleton<AgentStore>();
        return builder;
    }

    /// <summary>Every child of the section that is not a shared setting is an agent.</summary>
    public static void ReadDefinitions(IConfiguration section, AgentOptions options)
    {
        foreach (var child in section.GetChildren().Where(child => !AgentOptions.SettingNames.Contains(child.Key)))
        {
            var definition = new AgentDefinition();
            child.Bind(definition);
            options.Definitions[child.Key] = definition;
        }
    }
}

/// <summary>
/// The agent a fresh install offers, so F5 has one to talk to: <c>assistant</c> on <c>gpt-4o-mini</c>,
/// which may ask the user and fetch pages from example.com. Not offered when the models configured
/// have no such alias and nothing was said of the assistant: an agent nobody asked for must not stop
/// a deployment with its own model aliases from starting.
/// </summary>
internal sealed class DefaultAgent(IOptions<OrchestrationOptions> orchestration) : IPostConfigureOptions<AgentOptions>
{
    public const string Name = "assistant";
    public const string DefaultModel = "gpt-4o-mini";

    public void PostConfigure(string? name, AgentOptions options)
    {
        var configured = options.Definitions.ContainsKey(Name);
        if ((options.Definitions.Count > 0 && !configured) ||
            (!configured && !orchestration.Value.Models.ContainsKey(DefaultModel)))
        {
            return;
        }

        // Settings given for the assistant (its hosts, say, or an MCP server's tools) refine the default.
        var assistant = options.Definitions.TryGetValue(Name, out var given) ? given : new AgentDefinition();
        if (string.IsNullOrWhiteSpace(assistant.Model))
        {
            assistant.Model = DefaultModel;
        }

        if (string.IsNullOrWhiteSpace(assistant.Instructions))
        {
            assistant.Instructions = "You are a helpful assistant. Use the tools when they help; ask the user when you need something only they know.";
        }

        if (assistant.Tools.Count == 0)
        {
            assistant.Tools = [AgentToolNames.AskUser, AgentToolNames.HttpGet];
        }

        if (assistant.AllowedHosts.Count == 0)
        {
            assistant.AllowedHosts = ["example.com", "www.example.com"];
        }

        options.Definitions[Name] = assistant;
    }
}

/// <summary>Cross-field rules for <c>Agents</c>; each failure names its setting.</summary>
internal sealed class AgentOptionsValidator(IOptions<OrchestrationOptions> orchestration) : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var failures = new List<string>();
        foreach (var (agent, definition) in options.Definitions)
        {
            var setting = $"{AgentOptions.SectionName}:{agent}";
            if (string.IsNullOrWhiteSpace(definition.Model) || !orchestration.Value.Models.ContainsKey(definition.Model))
            {
                failures.Add($"{setting}:Model must name a model alias of Orchestration:Models (was '{definition.Model}').");
            }

            if (definition.MaxSteps is < 1 or > 1000 || definition.DeadlineSeconds is < 1 or > 86_400)
            {
                failures.Add($"{setting}:MaxSteps must be 1–1000 and {setting}:DeadlineSeconds 1–86400.");
            }

            foreach (var tool in definition.Tools)
            {
                if (!AgentToolNames.IsValidPattern(tool))
                {
                    failures.Add($"{setting}:Tools holds '{tool}', which is not a tool name.");
                }
                else if (!AgentToolNames.IsBuiltIn(tool) && !options.McpServers.Keys.Any(server => tool.StartsWith(server + "_", StringComparison.Ordinal)))
                {
                    failures.Add($"{setting}:Tools holds '{tool}': neither a built-in tool ({AgentToolNames.AskUser}, {AgentToolNames.HttpGet}) nor a tool of a server in {AgentOptions.SectionName}:McpServers.");
                }
            }
        }

        foreach (var (server, mcp) in options.McpServers)
        {
            if (!AgentToolNames.IsValidPattern(server) || server.Contains('_', StringComparison.Ordinal))
            {
                failures.Add($"{AgentOptions.SectionName}:McpServers:{server}: a server's name is letters, digits and '-' only.");
            }

            if (mcp.Endpoint is not { IsAbsoluteUri: true })
            {
                failures.Add($"{AgentOptions.SectionName}:McpServers:{server}:Endpoint must be an absolute URL.");
            }
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
