using System.Net;
using System.Net.Sockets;

namespace AspireLlm.Worker.Jobs;

/// <summary>Which failures deserve another run of the job, and how a final failure reads to the client.</summary>
internal static class TransientFaults
{
    public static bool IsTransient(Exception exception, bool timedOut) => timedOut || exception switch
    {
        HttpRequestException { StatusCode: null } => true,
        HttpRequestException { StatusCode: { } status } => status == HttpStatusCode.TooManyRequests || (int)status >= 500,
        SocketException or TimeoutException or IOException => true,
        _ => false,
    };

    public static string Describe(Exception exception) => exception switch
    {
        HttpRequestException { StatusCode: { } status } => $"provider answered {(int)status}",
        _ => exception.GetType().Name,
    };

    public static (string Code, string Message) ToError(Exception exception, bool timedOut) => timedOut
        ? ("timeout", "The job did not finish within its deadline.")
        : exception switch
        {
            HttpRequestException { StatusCode: { } status } => ("provider_error", $"The model provider answered {(int)status}."),
            _ => ("internal_error", "The job failed; see the Worker logs for job id details."),
        };
}
