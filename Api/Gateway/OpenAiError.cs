namespace AspireLlm.Api.Gateway;

/// <summary>
/// An error in OpenAI's shape, <c>{"error": {"message", "type", "param", "code"}}</c>, with the status
/// OpenAI uses for it, so that OpenAI client libraries raise the exception type their users expect.
/// </summary>
public sealed record OpenAiError(int Status, string Message, string Type, string? Param = null, string? Code = null)
{
    public static OpenAiError Invalid(string message, string? param = null, string? code = null) =>
        new(StatusCodes.Status400BadRequest, message, "invalid_request_error", param, code);

    public static OpenAiError ModelNotFound(string model) =>
        new(StatusCodes.Status404NotFound, $"The model '{model}' does not exist or you do not have access to it.", "invalid_request_error", "model", "model_not_found");

    /// <summary>Null when the model exists and the key may use it; otherwise OpenAI's 404 or our 403.</summary>
    public static OpenAiError? ForModel(string model, bool exists, Orchestration.Admission.KeyLimits limits) =>
        !exists ? ModelNotFound(model) : !limits.Allows(model) ? ModelNotAllowed(model) : null;

    public static OpenAiError ModelNotAllowed(string model) =>
        new(StatusCodes.Status403Forbidden, $"This API key may not use the model '{model}'.", "permission_error", "model", "model_not_allowed");

    public static OpenAiError Unauthorized() =>
        new(StatusCodes.Status401Unauthorized, "Incorrect or missing API key. Send 'Authorization: Bearer <key>'.", "invalid_request_error", null, "invalid_api_key");

    public IResult ToResult() => TypedResults.Json(Body(), statusCode: Status);

    public object Body() => new { error = new { message = Message, type = Type, param = Param, code = Code } };
}
