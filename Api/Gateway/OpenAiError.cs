using System.Globalization;
using System.Text.Json;

namespace AspireLlm.Api.Gateway;

/// <summary>
/// An error in OpenAI's shape, <c>{"error": {"message", "type", "param", "code"}}</c>, with the status
/// OpenAI uses for it, so that OpenAI client libraries raise the exception type their users expect.
/// <see cref="WriteAsync"/> is the one place an OpenAI-shaped error is written.
/// </summary>
public sealed record OpenAiError(int Status, string Message, string Type, string? Param = null, string? Code = null)
{
    private static JsonSerializerOptions Json => ChatCompletionsEndpoint.Json;

    public static OpenAiError Invalid(string message, string? param = null, string? code = null) =>
        new(StatusCodes.Status400BadRequest, message, "invalid_request_error", param, code);

    /// <summary>A request the chat completion parser refused.</summary>
    public static OpenAiError From(Orchestration.ChatRequests.ChatRequestError error) => Invalid(error.Message, error.Param, error.Code);

    /// <summary>An error for a bare status (auth, routing, an unexpected failure), typed as OpenAI types it.</summary>
    public static OpenAiError ForStatus(int status, string message, string? code = null) => new(status, message, status switch
    {
        StatusCodes.Status401Unauthorized => "invalid_request_error",
        StatusCodes.Status403Forbidden => "permission_error",
        StatusCodes.Status429TooManyRequests => "rate_limit_error",
        StatusCodes.Status503ServiceUnavailable => "service_unavailable",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    }, null, code);

    public static OpenAiError ModelNotFound(string model) =>
        new(StatusCodes.Status404NotFound, $"The model '{Echo(model)}' does not exist or you do not have access to it.", "invalid_request_error", "model", "model_not_found");

    /// <summary>Null when the model exists and the key may use it; otherwise OpenAI's 404 or our 403.</summary>
    public static OpenAiError? ForModel(string model, bool exists, Orchestration.Admission.KeyLimits limits) =>
        !exists ? ModelNotFound(model) : !limits.Allows(model) ? ModelNotAllowed(model) : null;

    public static OpenAiError ModelNotAllowed(string model) =>
        new(StatusCodes.Status403Forbidden, $"This API key may not use the model '{Echo(model)}'.", "permission_error", "model", "model_not_allowed");

    /// <summary>What a client sent, quoted back short: an error must not grow with the request.</summary>
    private static string Echo(string value) => value.Length <= 64 ? value : value[..64] + "…";

    public object Body() => new { error = new { message = Message, type = Type, param = Param, code = Code } };

    /// <summary>Writes this error as the response (and <c>Retry-After</c>, when waiting helps).</summary>
    public async Task WriteAsync(HttpContext http, TimeSpan? retryAfter = null)
    {
        if (retryAfter is { } wait)
        {
            http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        http.Response.StatusCode = Status;
        await http.Response.WriteAsJsonAsync(Body(), Json);
    }
}
