using System.Text.Json;

namespace AspireLlm.Orchestration.Jobs;

/// <summary>
/// How job inputs are read, on both sides: the Api validates with these options and the Worker reads
/// with them, so an input accepted with 202 can always be read by the job that runs it.
/// </summary>
public static class JobInputJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
