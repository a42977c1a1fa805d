using System.Text.Json;
using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.Agents;
using Microsoft.Extensions.AI;

namespace AspireLlm.Worker.Agents;

/// <summary>
/// Which tools a task may call, and calling them. A task gets the tools its agent is configured with
/// that its key's limits allow (like models, a key may be limited to some tools); a call to any other
/// tool (a model may name one it was not offered) is answered with an error result, never run.
/// </summary>
internal sealed class AgentToolbox(HttpGetTool httpGet, McpTools mcp)
{
    private static readonly JsonElement AskUserSchema = JsonDocument.Parse("""
        {"type":"object","properties":{"prompt":{"type":"string","description":"The question for the user."}},"required":["prompt"],"additionalProperties":false}
        """).RootElement.Clone();

    /// <summary>The declarations the model is offered for this task.</summary>
    public async Task<IList<AITool>> DeclarationsAsync(AgentDefinition agent, KeyLimits limits, CancellationToken cancellationToken)
    {
        var tools = new List<AITool>();
        if (Offers(agent, limits, AgentToolNames.AskUser))
        {
            tools.Add(AIFunctionFactory.CreateDeclaration(AgentToolNames.AskUser,
                "Ask the user a question and wait for the answer. Use it when you need information only the user has.", AskUserSchema));
        }

        if (Offers(agent, limits, AgentToolNames.HttpGet))
        {
            tools.Add(AIFunctionFactory.CreateDeclaration(AgentToolNames.HttpGet,
                $"Fetch a web page or API response as text. Allowed hosts: {string.Join(", ", agent.AllowedHosts)}.", HttpGetTool.Schema));
        }

        foreach (var server in McpServersOf(agent))
        {
            foreach (var tool in await mcp.DeclarationsAsync(server, cancellationToken))
            {
                if (Offers(agent, limits, tool.Name))
                {
                    tools.Add(tool);
                }
            }
        }

        return tools;
    }

    /// <summary>Whether this task may call <paramref name="tool"/>: its agent has it and its key allows it.</summary>
    public static bool Offers(AgentDefinition agent, KeyLimits limits, string tool) =>
        agent.Tools.Any(pattern => AgentToolNames.Matches(pattern, tool)) && limits.AllowsTool(tool);

    /// <summary>Runs a tool the task may call (<see cref="Offers"/> checked by the caller); ask_user is the loop's own.</summary>
    public Task<ToolResult> InvokeAsync(AgentDefinition agent, FunctionCallContent call, CancellationToken cancellationToken)
    {
        if (call.Name == AgentToolNames.HttpGet)
        {
            return httpGet.GetAsync(agent, call.Arguments, cancellationToken);
        }

        var separator = call.Name.IndexOf('_', StringComparison.Ordinal);
        return separator > 0 && McpServersOf(agent).Contains(call.Name[..separator])
            ? mcp.CallAsync(call.Name[..separator], call.Name[(separator + 1)..], call.Arguments, cancellationToken)
            : Task.FromResult(ToolResult.Error($"No tool named {call.Name}."));
    }

    private static IEnumerable<string> McpServersOf(AgentDefinition agent) =>
        agent.Tools.Where(tool => !AgentToolNames.IsBuiltIn(tool) && tool.Contains('_', StringComparison.Ordinal))
            .Select(tool => tool[..tool.IndexOf('_', StringComparison.Ordinal)])
            .Distinct(StringComparer.Ordinal);
}
