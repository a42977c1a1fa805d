using System.Text.Json;
using AspireLlm.Orchestration.ChatRequests;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.Simulator;

/// <summary>
/// An agent's model calls scripted for the simulator (<c>metadata.simulator_script</c> of an agent
/// task): a JSON array of steps <c>{"thought":"…"}</c>, <c>{"tool":"name","arguments":{…}}</c>,
/// <c>{"ask":"…"}</c> and <c>{"answer":"…"}</c>. Each model call plays one turn: the thoughts before
/// the next tool, ask or answer step, and that step, as a real response (a tool as a function call
/// the agent loop executes, an ask as an <c>ask_user</c> call, an answer as the final text with the
/// thoughts as reasoning). Which turn is derived from the conversation (its number of assistant
/// messages), so a task resumed from a checkpoint, on any Worker, plays on where it stopped.
/// </summary>
public static class SimulatorScript
{
    /// <summary>The <see cref="ChatOptions.AdditionalProperties"/> key the script travels under; only the simulator sees it.</summary>
    public const string PropertyKey = "aspirellm.simulator_script";

    public const int MaxSteps = 200;

    /// <summary>A script as an array (an array given as a JSON string is read too), or why it is not one.</summary>
    public static (JsonElement? Steps, ChatRequestError? Error) Read(JsonElement value, string path)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            try
            {
                using var document = StrictJson.Parse(value.GetString()!);
                return Read(document.RootElement.Clone(), path);
            }
            catch (JsonException)
            {
                return (null, new ChatRequestError("The simulator script must be a JSON array of steps.", path));
            }
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() is 0 or > MaxSteps)
        {
            return (null, new ChatRequestError($"The simulator script must be an array of 1 to {MaxSteps} steps.", path));
        }

        var index = 0;
        foreach (var step in value.EnumerateArray())
        {
            var at = $"{path}[{index++}]";
            if (step.ValueKind != JsonValueKind.Object)
            {
                return (null, new ChatRequestError("A step is an object: {\"thought\"}, {\"tool\",\"arguments\"}, {\"ask\"} or {\"answer\"}.", at));
            }

            var names = step.EnumerateObject().Select(property => property.Name).ToList();
            var valid = names switch
            {
                ["thought"] or ["ask"] or ["answer"] => step.GetProperty(names[0]).ValueKind == JsonValueKind.String,
                ["tool"] => IsToolName(step.GetProperty("tool")),
                ["tool", "arguments"] or ["arguments", "tool"] => IsToolName(step.GetProperty("tool"))
                    && step.GetProperty("arguments").ValueKind == JsonValueKind.Object,
                _ => false,
            };
            if (!valid)
            {
                return (null, new ChatRequestError(
                    "A step is {\"thought\":text}, {\"tool\":name,\"arguments\":object}, {\"ask\":text} or {\"answer\":text}.", at));
            }
        }

        return (value.Clone(), null);
    }

    private static bool IsToolName(JsonElement name) =>
        name.ValueKind == JsonValueKind.String && Agents.AgentToolNames.IsValidPattern(name.GetString()!) && !name.GetString()!.EndsWith('*');

    /// <summary>The response for this point of the conversation, or null when the script has no turn left.</summary>
    internal static IReadOnlyList<AIContent>? Play(JsonElement script, IReadOnlyList<ChatMessage> messages)
    {
        var turn = messages.Count(message => message.Role == ChatRole.Assistant);
        var thoughts = new List<string>();
        var current = 0;
        foreach (var step in script.EnumerateArray())
        {
            if (step.TryGetProperty("thought", out var thought))
            {
                thoughts.Add(thought.GetString()!);
                continue;
            }

            if (current++ < turn)
            {
                thoughts.Clear();
                continue;
            }

            var callId = $"call_{turn + 1}";
            var said = thoughts.Count > 0 ? string.Join("\n", thoughts) : null;
            if (step.TryGetProperty("answer", out var answer))
            {
                return said is null ? [new TextContent(answer.GetString())] : [new TextReasoningContent(said), new TextContent(answer.GetString())];
            }

            FunctionCallContent call = step.TryGetProperty("ask", out var ask)
                ? new(callId, Agents.AgentToolNames.AskUser, new Dictionary<string, object?> { ["prompt"] = ask.GetString() })
                : new(callId, step.GetProperty("tool").GetString()!, step.TryGetProperty("arguments", out var arguments)
                    ? arguments.EnumerateObject().ToDictionary(property => property.Name, property => (object?)property.Value.Clone())
                    : []);
            return said is null ? [call] : [new TextContent(said), call];
        }

        // Thoughts after the last action: they are the final answer.
        return current == turn && thoughts.Count > 0 ? [new TextContent(string.Join("\n", thoughts))] : null;
    }
}
