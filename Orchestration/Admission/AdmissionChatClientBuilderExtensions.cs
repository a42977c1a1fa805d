using AspireLlm.Orchestration.Routing;
using AspireLlm.Orchestration.Tokens;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.Admission;

public static class AdmissionChatClientBuilderExtensions
{
    /// <summary>
    /// Admits each call with its worst-case tokens and cost before it, and settles with what it used
    /// after it. The admit-everything <see cref="NoModelAdmission"/> adds no stage at all.
    /// </summary>
    public static ChatClientBuilder UseAdmission(this ChatClientBuilder builder, AliasRoute route, IModelAdmission admission, TokenCounter tokens) =>
        admission is NoModelAdmission ? builder : builder.Use(inner => new AdmissionChatClient(inner, route, admission, tokens));
}
