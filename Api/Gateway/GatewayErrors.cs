using System.Net;
using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.Providers;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Orchestration.StructuredOutput;

namespace AspireLlm.Api.Gateway;

/// <summary>How the pipeline's failures read to an OpenAI client: OpenAI's status, type and code for each.</summary>
public static class GatewayErrors
{
    /// <summary>The error for <paramref name="exception"/>, and how long to wait before retrying, if that helps.</summary>
    public static (OpenAiError Error, TimeSpan? RetryAfter)? From(Exception exception) => exception switch
    {
        ModelAdmissionException { Refusal: AdmissionRefusal.BudgetExhausted } e =>
            (new OpenAiError(StatusCodes.Status429TooManyRequests, e.Message, "insufficient_quota", null, "insufficient_quota"), e.RetryAfter),
        ModelAdmissionException { Refusal: AdmissionRefusal.TooLarge } e =>
            (OpenAiError.Invalid(e.Message, "max_tokens", "request_too_large"), null),
        ModelAdmissionException { Refusal: AdmissionRefusal.NotAllowed } e =>
            (new OpenAiError(StatusCodes.Status403Forbidden, e.Message, "permission_error", "model", "model_not_allowed"), null),
        ModelAdmissionException { Refusal: AdmissionRefusal.KeyRevoked } e =>
            (new OpenAiError(StatusCodes.Status401Unauthorized, e.Message, "invalid_request_error", null, "key_revoked"), null),
        ModelAdmissionException { Refusal: AdmissionRefusal.Unavailable } e =>
            (new OpenAiError(StatusCodes.Status503ServiceUnavailable, e.Message, "service_unavailable", null, "limits_unavailable"), e.RetryAfter),
        ModelAdmissionException e =>
            (new OpenAiError(StatusCodes.Status429TooManyRequests, e.Message, "rate_limit_error", null, "rate_limit_exceeded"), e.RetryAfter),
        ModelUnavailableException e =>
            (new OpenAiError(StatusCodes.Status503ServiceUnavailable, e.PublicMessage, "service_unavailable", null, "model_unavailable"), e.RetryAfter),
        PromptTooLargeException e =>
            (OpenAiError.Invalid(e.Message, "messages", "context_length_exceeded"), null),
        ProviderHttpException { Status: HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity } e =>
            (OpenAiError.Invalid(e.Message, null, e.ErrorCode), null),
        ProviderHttpException e =>
            (new OpenAiError(StatusCodes.Status502BadGateway, e.Message, "upstream_error", null, e.ErrorCode), null),
        StructuredOutputException e =>
            (new OpenAiError(StatusCodes.Status502BadGateway, e.Message, "upstream_error", "response_format", "invalid_structured_output"), null),
        Orchestration.Tokens.ServerBusyException e =>
            (new OpenAiError(StatusCodes.Status503ServiceUnavailable, e.Message, "service_unavailable", null, "server_busy"), e.RetryAfter),
        StreamInterruptedException e =>
            (new OpenAiError(StatusCodes.Status502BadGateway, e.Message, "upstream_error", null, "stream_interrupted"), null),
        _ => null,
    };
}
