using System.ClientModel.Primitives;

namespace AspireLlm.Orchestration.Providers;

/// <summary>
/// Azure OpenAI's v1 API is OpenAI's protocol under <c>/openai/v1/</c>, but it authenticates API
/// keys with an <c>api-key</c> header rather than a bearer token. Using the OpenAI client with this
/// policy avoids the Azure SDK, whose releases lag the OpenAI package they extend.
/// </summary>
internal sealed class AzureApiKeyPolicy(string apiKey) : PipelinePolicy
{
    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        Authenticate(message);
        ProcessNext(message, pipeline, currentIndex);
    }

    public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        Authenticate(message);
        return ProcessNextAsync(message, pipeline, currentIndex);
    }

    private void Authenticate(PipelineMessage message)
    {
        message.Request.Headers.Remove("Authorization");
        message.Request.Headers.Set("api-key", apiKey);
    }
}
