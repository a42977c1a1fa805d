using System.Text.Json;
using AspireLlm.Orchestration.ChatRequests;

namespace AspireLlm.Orchestration.Agents;

/// <summary>
/// An agent task's input, the same whether it came in a WebSocket <c>start_task</c> frame or as the
/// input of <c>POST /v1/jobs</c> with kind <c>agent</c>. Read strictly: an unknown field is refused,
/// naming it. <see cref="SimulatorScript"/> is <c>metadata.simulator_script</c>: steps the simulator
/// plays as the model's answers (see <see cref="Simulator.SimulatorScript"/>).
/// </summary>
public sealed record AgentInput(
    string Agent, string Input, string? Model, int? MaxSteps, int? DeadlineSeconds, IReadOnlyDictionary<string, string> Metadata,
    JsonElement? SimulatorScript)
{
    public const int MaxInputCharacters = 32_000;
    public const string ScriptKey = "simulator_script";

    private static readonly HashSet<string> Known = ["agent", "input", "model", "max_steps", "deadline_seconds", "metadata"];

    public static (AgentInput? Input, IReadOnlyList<ChatRequestError> Errors) Parse(JsonElement input, string path)
    {
        if (input.ValueKind != JsonValueKind.Object)
        {
            return Fail("The input must be an object.", path);
        }

        foreach (var property in input.EnumerateObject())
        {
            if (!Known.Contains(property.Name))
            {
                return Fail($"Unrecognized argument supplied: {property.Name} (known: {string.Join(", ", Known)}).", $"{path}.{property.Name}", "unknown_parameter");
            }
        }

        if (!input.TryGetProperty("agent", out var agent) || agent.ValueKind != JsonValueKind.String || agent.GetString() is not { Length: > 0 and <= 64 } agentName)
        {
            return Fail("'agent' is required: the name of a configured agent.", $"{path}.agent");
        }

        if (!input.TryGetProperty("input", out var text) || text.ValueKind != JsonValueKind.String
            || text.GetString() is not { Length: > 0 and <= MaxInputCharacters } task)
        {
            return Fail($"'input' is required: the task, as text of 1 to {MaxInputCharacters} characters.", $"{path}.input");
        }

        string? model = null;
        if (input.TryGetProperty("model", out var modelElement) && modelElement.ValueKind != JsonValueKind.Null)
        {
            if (modelElement.ValueKind != JsonValueKind.String || modelElement.GetString() is not { Length: > 0 and <= 256 } alias)
            {
                return Fail("'model' must be a model alias.", $"{path}.model");
            }

            model = alias;
        }

        var (maxSteps, stepsError) = OptionalInt(input, "max_steps", 1, 1000, path);
        var (deadline, deadlineError) = OptionalInt(input, "deadline_seconds", 1, 86_400, path);
        if ((stepsError ?? deadlineError) is { } numberError)
        {
            return (null, [numberError]);
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        JsonElement? script = null;
        if (input.TryGetProperty("metadata", out var meta) && meta.ValueKind != JsonValueKind.Null)
        {
            if (meta.ValueKind != JsonValueKind.Object || meta.EnumerateObject().Count() > 16)
            {
                return Fail("'metadata' must be an object of at most 16 entries.", $"{path}.metadata");
            }

            foreach (var pair in meta.EnumerateObject())
            {
                if (pair.Name.Length is 0 or > 64)
                {
                    return Fail("Metadata keys are 1 to 64 characters.", $"{path}.metadata");
                }

                if (pair.Name == ScriptKey)
                {
                    var (steps, scriptError) = Simulator.SimulatorScript.Read(pair.Value, $"{path}.metadata.{ScriptKey}");
                    if (scriptError is not null)
                    {
                        return (null, [scriptError]);
                    }

                    script = steps;
                }
                else if (pair.Value.ValueKind != JsonValueKind.String || pair.Value.GetString()!.Length > 512)
                {
                    return Fail("Metadata values are strings of at most 512 characters.", $"{path}.metadata.{pair.Name}");
                }
                else
                {
                    metadata[pair.Name] = pair.Value.GetString()!;
                }
            }
        }

        return (new AgentInput(agentName, task, model, maxSteps, deadline, metadata, script), []);
    }

    private static (int? Value, ChatRequestError? Error) OptionalInt(JsonElement input, string name, int min, int max, string path)
    {
        if (!input.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }

        return element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out var value) && value >= min && value <= max
            ? (value, null)
            : (null, new ChatRequestError($"'{name}' must be an integer from {min} to {max}.", $"{path}.{name}"));
    }

    private static (AgentInput? Input, IReadOnlyList<ChatRequestError> Errors) Fail(string message, string param, string? code = null) =>
        (null, [new ChatRequestError(message, param, code)]);
}
