using System.Runtime.InteropServices;
using System.Text.Json;
using AspireLlm.Orchestration.Admission;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Errors;
using AspireLlm.Orchestration.Embeddings;

namespace AspireLlm.Api.Gateway;

/// <summary><c>POST /v1/embeddings</c>: OpenAI's endpoint, with the same key, model and limit rules as chat.</summary>
public static class EmbeddingsEndpoint
{
    private const int MaxInputs = 2048;
    private static readonly HashSet<string> Known = ["model", "input", "encoding_format", "dimensions", "user"];

    public static async Task HandleAsync(HttpContext http, EmbeddingCatalog embeddings, IModelAdmission admission)
    {
        var key = Caller.KeyOf(http);
        var (document, bodyError) = await RequestBody.ReadAsync(http, http.RequestAborted);
        if (bodyError is not null)
        {
            await OpenAiError.ForStatus(bodyError.Status, bodyError.Message).WriteAsync(http);
            return;
        }

        using (document)
        {
            var (request, error) = Parse(document!.RootElement);
            error ??= OpenAiError.ForModel(request!.Model, embeddings.IsKnown(request.Model), key.Limits);
            if (error is not null)
            {
                await error.WriteAsync(http);
                return;
            }

            var caller = key.ToSubject();
            try
            {
                var tokens = await Orchestration.Tokens.LargePromptGate.RunAsync(
                    request!.Inputs.Sum(input => (long)input.Length), () => embeddings.CountTokens(request.Model, request.Inputs), http.RequestAborted);

                var worstCost = embeddings.DeploymentsOf(request.Model).Max(d => d.Price.CostOf(tokens, 0));
                await using var lease = await admission.AdmitAsync(
                    new AdmissionRequest(key.TenantId, request.Model, tokens, 0, worstCost, caller), http.RequestAborted);
                var (result, deployment, cost) = await embeddings.GenerateAsync(request.Model, request.Inputs, request.Dimensions, http.RequestAborted);
                var used = result.Usage?.InputTokenCount ?? tokens;
                await lease.SettleAsync(used, 0, cost, CancellationToken.None);
                http.RequestServices.GetService<Observability.GatewayUsage>()?.Record(key.TenantId, key.Id, request.Model, deployment.Name, used, 0, cost);
                await http.Response.WriteAsJsonAsync(new
                {
                    @object = "list",
                    data = result.Select((embedding, index) => new
                    {
                        @object = "embedding",
                        index,
                        embedding = request.Base64 ? (object)Convert.ToBase64String(MemoryMarshal.AsBytes(embedding.Vector.Span)) : embedding.Vector.ToArray(),
                    }),
                    model = request.Model,
                    usage = new { prompt_tokens = used, total_tokens = used },
                }, ChatCompletionsEndpoint.Json);
            }
            catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
            {
            }
            catch (Exception exception) when (GatewayErrors.From(exception) is { } mapped)
            {
                await mapped.Error.WriteAsync(http, mapped.RetryAfter);
            }
        }
    }

    private sealed record EmbeddingRequest(string Model, IReadOnlyList<string> Inputs, int? Dimensions, bool Base64);

    private static (EmbeddingRequest? Request, OpenAiError? Error) Parse(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            return (null, OpenAiError.Invalid("The request body must be a JSON object."));
        }

        if (body.EnumerateObject().Select(p => p.Name).FirstOrDefault(name => !Known.Contains(name)) is { } unknown)
        {
            return (null, OpenAiError.Invalid($"Unrecognized request argument supplied: {unknown}", unknown, "unknown_parameter"));
        }

        if (!body.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || model.GetString() is not { Length: > 0 } alias)
        {
            return (null, OpenAiError.Invalid("'model' is required and must be a string.", "model"));
        }

        List<string>? inputs = body.TryGetProperty("input", out var input) ? input.ValueKind switch
        {
            JsonValueKind.String => [input.GetString()!],
            JsonValueKind.Array when input.EnumerateArray().All(i => i.ValueKind == JsonValueKind.String) => [.. input.EnumerateArray().Select(i => i.GetString()!)],
            _ => null,
        } : null;
        if (inputs is null || inputs.Count == 0 || inputs.Count > MaxInputs || inputs.Any(text => text.Length == 0))
        {
            return (null, OpenAiError.Invalid($"'input' must be a non-empty string or an array of 1 to {MaxInputs} non-empty strings.", "input"));
        }

        var format = body.TryGetProperty("encoding_format", out var encoding) && encoding.ValueKind == JsonValueKind.String ? encoding.GetString() : "float";
        if (format is not ("float" or "base64"))
        {
            return (null, OpenAiError.Invalid("'encoding_format' must be 'float' or 'base64'.", "encoding_format"));
        }

        int? dimensions = null;
        if (body.TryGetProperty("dimensions", out var dims) && dims.ValueKind != JsonValueKind.Null)
        {
            if (dims.ValueKind != JsonValueKind.Number || !dims.TryGetInt32(out var value) || value is < 1 or > 8192)
            {
                return (null, OpenAiError.Invalid("'dimensions' must be an integer from 1 to 8192.", "dimensions"));
            }

            dimensions = value;
        }

        return (new EmbeddingRequest(alias, inputs, dimensions, format == "base64"), null);
    }
}
