using System.Runtime.CompilerServices;
using AspireLlm.Orchestration.Pipeline;
using AspireLlm.Orchestration.Redaction;
using AspireLlm.Orchestration.Resilience;
using AspireLlm.Orchestration.Telemetry;
using AspireLlm.Orchestration.Tokens;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace AspireLlm.Orchestration.Routing;

internal sealed partial class FallbackChatClient
{
    /// <summary>What a stream has used so far, so that a stream cut short is still charged.</summary>
    private sealed class StreamUsage(int promptTokens)
    {
        private readonly System.Text.StringBuilder _text = new();
        private UsageDetails? _providerUsage;
        private UsageDetails? _estimatedUsage;
        private bool _settled;

        public bool Finished { get; private set; }

        public decimal Cost { get; private set; }

        public void Observe(ChatResponseUpdate update)
        {
            Finished |= update.FinishReason is not null;
            foreach (var content in update.Contents)
            {
                switch (content)
                {
                    case TextContent text:
                        _text.Append(text.Text);
                        break;
                    case UsageContent usage:
                        _providerUsage = usage.Details;
                        break;
                    case FunctionCallContent call:
                        _text.Append(call.Name);
                        break;
                }
            }
        }

        public void Settle(FallbackChatClient owner, ModelDeployment deployment, ModelCallContext context)
        {
            if (_settled)
            {
                return;
            }

            _settled = true;
            var input = _providerUsage?.InputTokenCount ?? promptTokens;
            var output = _providerUsage?.OutputTokenCount ?? owner._tokens.CountText(_text.ToString(), deployment.Encoding);
            if (_providerUsage is null)
            {
                _estimatedUsage = new UsageDetails { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output };
            }

            Cost = deployment.Price.CostOf(input, output);
            owner.Record(deployment, context, input, output, Cost, partial: !Finished);
        }

        /// <summary>The last update: which deployment answered and what it cost, plus our usage count if the provider sent none.</summary>
        public ChatResponseUpdate FinalUpdate(ModelDeployment deployment) => new()
        {
            Role = ChatRole.Assistant,
            Contents = _estimatedUsage is { } usage ? [new UsageContent(usage)] : [],
            AdditionalProperties = new() { [DeploymentProperty] = deployment.Name, [CostProperty] = Cost },
        };
    }
}
