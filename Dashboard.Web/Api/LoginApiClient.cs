using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace AspireLlm.Dashboard.Web.Api;

public enum LoginOutcome
{
    Success,
    Refused,
    Throttled,
    Unavailable,
}

/// <summary>What the Api said about a login: on success who logged in (the key's id and public prefix, never the key).</summary>
public sealed record LoginResult(LoginOutcome Outcome, Guid? KeyId = null, string? Prefix = null, TimeSpan? RetryAfter = null);

/// <summary>
/// Asks the Api whether a typed key is an active admin key (<c>POST /v1/admin/login</c>), which audits
/// the attempt under the operator's address. It sends the dashboard's own admin key too: that is what
/// makes the Api believe the <c>X-Forwarded-For</c> address. No retries: a login is a person's single
/// attempt, and a retried one would count against the throttle twice.
/// </summary>
public sealed class LoginApiClient(HttpClient http)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public async Task<LoginResult> LoginAsync(string key, string? operatorAddress, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/admin/login") { Content = JsonContent.Create(new { key }) };
        if (operatorAddress is not null)
        {
            request.Headers.Add("X-Forwarded-For", operatorAddress);
        }

        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    var who = await response.Content.ReadFromJsonAsync<JsonElement>(Json, cancellationToken);
                    return new LoginResult(LoginOutcome.Success, who.GetProperty("key_id").GetGuid(), who.GetProperty("prefix").GetString());
                case HttpStatusCode.Unauthorized:
                    return new LoginResult(LoginOutcome.Refused);
                case HttpStatusCode.TooManyRequests:
                    return new LoginResult(LoginOutcome.Throttled, RetryAfter: response.Headers.RetryAfter?.Delta);
                default:
                    return new LoginResult(LoginOutcome.Unavailable);
            }
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new LoginResult(LoginOutcome.Unavailable);
        }
    }
}

internal static class LoginApiClientExtensions
{
    public static IHostApplicationBuilder AddLoginApiClient(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHttpClient<LoginApiClient>((services, http) =>
        {
            var options = services.GetRequiredService<IOptions<DashboardOptions>>().Value;
            http.BaseAddress = new Uri(options.ApiBaseAddress);
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
            http.Timeout = TimeSpan.FromSeconds(10);
        });
        return builder;
    }
}
