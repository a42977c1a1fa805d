using System.Text.Json.Nodes;

namespace AspireLlm.GatewayBench;

/// <summary>wrk Lua scripts: one request body, sent again and again.</summary>
internal static class Scripts
{
    /// <summary>The request with a seed: deterministic, so eligible for the exact cache (the first call fills it).</summary>
    public static JsonObject Deterministic(JsonObject request)
    {
        var deterministic = request.DeepClone().AsObject();
        deterministic["seed"] = 7;
        return deterministic;
    }

    /// <summary>A script that posts <paramref name="request"/> with its model set to <paramref name="alias"/>, as <paramref name="key"/>.</summary>
    public static string Chat(JsonObject request, string alias, string key)
    {
        var body = request.DeepClone().AsObject();
        body["model"] = alias;
        var path = Path.Combine(Path.GetTempPath(), $"aspirellm-gateway-bench-{Guid.NewGuid():N}.lua");
        File.WriteAllText(path, $$"""
            local body = [==[{{body.ToJsonString()}}]==]
            request = function()
              return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer {{key}}"}, body)
            end
            """);
        return path;
    }
}
