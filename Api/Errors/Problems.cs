using Microsoft.AspNetCore.Http.HttpResults;

namespace AspireLlm.Api.Errors;

/// <summary>The ProblemDetails results the endpoints return, worded once.</summary>
public static class Problems
{
    public static ProblemHttpResult Validation(Dictionary<string, string[]> errors) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request is invalid",
            Detail = "See 'errors' for each field: " + string.Join(", ", errors.Keys) + ".",
        });

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: detail);

    public static ProblemHttpResult TooLarge(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request body too large", detail: detail);
}
