using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace AspireLlm.SystemTests;

/// <summary>A job is one trace: the Api's request, the Worker's dispatch and run, and the run's model call.</summary>
[Collection(AppCollection.Name)]
public sealed class TraceTests(AppFixture fixture)
{
    [Fact]
    public async Task One_trace_runs_from_post_jobs_through_the_workers_model_call()
    {
        using var api = fixture.CreateApiClient();
        using var accepted = await api.PostAsync("/v1/jobs", new StringContent(
            """{"kind":"chat.completion","input":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"one trace"}]}}""", Encoding.UTF8, "application/json"));
        var jobId = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        ReceivedSpan? request = null, accept = null, dispatch = null, run = null, modelCall = null;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && (request is null || dispatch is null || run is null || modelCall is null))
        {
            await Task.Delay(500);
            var spans = fixture.Traces.Spans;
            accept = spans.FirstOrDefault(s => s.Name == "job.accept" && s.Attributes.GetValueOrDefault("aspirellm.job.id") == jobId);
            if (accept is null)
            {
                continue;
            }

            var trace = spans.Where(s => s.TraceId == accept.TraceId).ToList();
            request = trace.FirstOrDefault(s => s.SpanId == accept.ParentSpanId);
            dispatch = trace.FirstOrDefault(s => s.Name.StartsWith("job.dispatch", StringComparison.Ordinal));
            run = trace.FirstOrDefault(s => s.Name.StartsWith("job.run", StringComparison.Ordinal));
            modelCall = run is null ? null : trace.FirstOrDefault(s => s.Name.StartsWith("chat", StringComparison.Ordinal) && s.ParentSpanId == run.SpanId);
        }

        Assert.NotNull(accept);
        Assert.NotNull(request);
        Assert.StartsWith("POST", request.Name);
        Assert.Equal("api", request.Service);
        Assert.NotNull(dispatch);
        Assert.NotNull(run);
        Assert.Equal("worker", run.Service);
        Assert.Equal(jobId, run.Attributes["aspirellm.job.id"]);
        Assert.Equal(accept.SpanId, run.ParentSpanId);
        Assert.Equal(accept.SpanId, dispatch.ParentSpanId);
        Assert.NotNull(modelCall); // the model call of the run, in the same trace
    }
}
