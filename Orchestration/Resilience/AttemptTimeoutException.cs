namespace AspireLlm.Orchestration.Resilience;

/// <summary>One attempt at a deployment took longer than its <see cref="DeploymentOptions.AttemptTimeout"/>.</summary>
public sealed class AttemptTimeoutException(string deployment, TimeSpan timeout)
    : TimeoutException($"Deployment '{deployment}' did not answer within its attempt timeout of {timeout.TotalSeconds:0.###} s.");
