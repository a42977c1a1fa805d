using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Providers;
using AspireLlm.Orchestration.Resilience;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Orchestration.StructuredOutput;

namespace AspireLlm.Worker.Jobs;

/// <summary>
/// Which failures deserve another run of the job, and how a final failure reads to the client. The
/// pipeline has already retried and failed over inside the call; a job run is retried only when
/// the model was unavailable or its stream broke, which a later run may not meet.
/// </summary>
internal static class TransientFaults
{
    public static bool IsTransient(Exception exception, bool timedOut) => timedOut || exception switch
    {
        // A spent budget does not come back within a job's retries; a per-minute limit does.
        ModelAdmissionException { Refusal: AdmissionRefusal.BudgetExhausted or AdmissionRefusal.TooLarge or AdmissionRefusal.NotAllowed or AdmissionRefusal.KeyRevoked } => false,
        ModelAdmissionException or ModelUnavailableException or StreamInterruptedException or Orchestration.Tokens.ServerBusyException
            or Orchestration.Retrieval.VectorIndexUnavailableException or Npgsql.NpgsqlException { IsTransient: true } => true,
        PromptTooLargeException or StructuredOutputException or InvalidJobInputException => false,
        Agents.AgentTaskException or Orchestration.Agents.AgentCheckpointConflictException => false,
        _ => FailureClassifier.IsTransient(FailureClassifier.Classify(exception)),
    };

    private static readonly TimeSpan[] Backoffs = [TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)];

    /// <summary>How long a job waits after its <paramref name="attempt"/>-th run failed transiently.</summary>
    public static TimeSpan Backoff(int attempt) => Backoffs[Math.Clamp(attempt - 1, 0, Backoffs.Length - 1)];

    public static string Describe(Exception exception) => exception switch
    {
        ModelUnavailableException unavailable => $"model {unavailable.Alias} unavailable",
        ProviderHttpException http => $"provider answered {(int)http.Status}",
        _ => exception.GetType().Name,
    };

    public static (string Code, string Message) ToError(Exception exception, bool timedOut) => timedOut
        ? ("timeout", "The job did not finish within its deadline.")
        : exception switch
        {
            ModelAdmissionException { Refusal: AdmissionRefusal.BudgetExhausted } => ("insufficient_quota", exception.Message),
            ModelAdmissionException { Refusal: AdmissionRefusal.TooLarge } => ("request_too_large", exception.Message),
            ModelAdmissionException { Refusal: AdmissionRefusal.NotAllowed } => ("model_not_allowed", exception.Message),
            ModelAdmissionException { Refusal: AdmissionRefusal.KeyRevoked } => ("key_revoked", exception.Message),
            ModelAdmissionException => ("rate_limit_exceeded", exception.Message),
            ModelUnavailableException unavailable => ("model_unavailable", unavailable.PublicMessage),
            StreamInterruptedException => ("stream_interrupted", exception.Message),
            PromptTooLargeException => ("context_length_exceeded", exception.Message),
            StructuredOutputException => ("invalid_structured_output", exception.Message),
            InvalidJobInputException => ("invalid_request", exception.Message),
            Orchestration.Retrieval.VectorIndexUnavailableException => ("vector_index_unavailable", exception.Message),
            Agents.AgentTaskException agent => (agent.Code, agent.Message),
            // Already redacted by the provider handler: providers echo prompts in their errors.
            ProviderHttpException http => ("provider_error", http.Message),
            _ => ("internal_error", "The job failed; see the Worker logs for job id details."),
        };
}
