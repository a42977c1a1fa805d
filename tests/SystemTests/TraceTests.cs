using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace AspireLlm.SystemTests;

/// <summary>A job is one trace: the Api's request, the Worker's dispatch and run, and the run's model calls; agent tasks and webhooks too.</summary>
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

        var (accept, trace) = await JobTraceAsync(jobId, (jobAccept, spans) => spans.Any(s => s.SpanId == jobAccept.ParentSpanId)
            && spans.Any(s => s.Name.StartsWith("job.dispatch", StringComparison.Ordinal))
            && spans.FirstOrDefault(s => s.Name.StartsWith("job.run", StringComparison.Ordinal)) is { } jobRun
            && spans.Any(s => s.Name.StartsWith("chat", StringComparison.Ordinal) && s.ParentSpanId == jobRun.SpanId));
        var request = trace.FirstOrDefault(s => s.SpanId == accept?.ParentSpanId);
        var dispatch = trace.FirstOrDefault(s => s.Name.StartsWith("job.dispatch", StringComparison.Ordinal));
        var run = trace.FirstOrDefault(s => s.Name.StartsWith("job.run", StringComparison.Ordinal));
        var modelCall = run is null ? null : trace.FirstOrDefault(s => s.Name.StartsWith("chat", StringComparison.Ordinal) && s.ParentSpanId == run.SpanId);

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

    [Fact]
    public async Task A_jobs_webhook_delivery_is_a_span_in_the_jobs_trace()
    {
        using var receiver = new System.Net.HttpListener();
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var url = $"http://127.0.0.1:{((System.Net.IPEndPoint)probe.LocalEndpoint).Port}/hook/";
        probe.Stop();
        receiver.Prefixes.Add(url);
        receiver.Start();
        var received = receiver.GetContextAsync();

        using var api = fixture.CreateApiClient();
        using var accepted = await api.PostAsync("/v1/jobs", new StringContent(
            $$$"""{"kind":"chat.completion","webhook_url":"{{{url}}}","input":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"a traced webhook"}]}}""", Encoding.UTF8, "application/json"));
        Assert.True(accepted.IsSuccessStatusCode, await accepted.Content.ReadAsStringAsync());
        var jobId = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        // The delivery arrives; the receiver answers 204, so it is delivered at the first attempt.
        var hook = await received.WaitAsync(TimeSpan.FromSeconds(30));
        hook.Response.StatusCode = 204;
        hook.Response.Close();

        ReceivedSpan? accept = null, delivery = null;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && delivery is null)
        {
            await Task.Delay(500);
            var spans = fixture.Traces.Spans;
            accept = spans.FirstOrDefault(s => s.Name == "job.accept" && s.Attributes.GetValueOrDefault("aspirellm.job.id") == jobId);
            delivery = spans.FirstOrDefault(s => s.Name == "webhook.deliver" && s.Attributes.GetValueOrDefault("aspirellm.job.id") == jobId);
        }

        Assert.NotNull(accept);
        Assert.NotNull(delivery);
        Assert.Equal("worker", delivery.Service);
        Assert.Equal(accept.TraceId, delivery.TraceId);
        Assert.Equal(accept.SpanId, delivery.ParentSpanId);
        Assert.Equal("204", delivery.Attributes.GetValueOrDefault("http.response.status_code"));
    }

    [Fact]
    public async Task An_agent_task_is_one_trace_from_post_jobs_through_its_model_calls()
    {
        using var api = fixture.CreateApiClient();
        using var accepted = await api.PostAsJsonAsync("/v1/jobs", new
        {
            kind = "agent",
            input = new
            {
                agent = "assistant",
                input = "a traced task",
                metadata = new Dictionary<string, object> { ["simulator_script"] = new object[] { new { answer = "Traced." } } },
            },
        });
        Assert.True(accepted.IsSuccessStatusCode, await accepted.Content.ReadAsStringAsync());
        var jobId = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        static bool IsModelCall(ReceivedSpan span) => span.Name.StartsWith("chat", StringComparison.Ordinal) && span.Service == "worker";
        var (accept, trace) = await JobTraceAsync(jobId, (_, spans) => spans.Any(s => s.Name == "job.run agent") && spans.Any(IsModelCall));
        var run = trace.FirstOrDefault(s => s.Name == "job.run agent");
        var modelCall = trace.FirstOrDefault(IsModelCall);

        Assert.NotNull(accept);
        Assert.NotNull(run);
        Assert.Equal("worker", run.Service);
        Assert.Equal(jobId, run.Attributes["aspirellm.job.id"]);
        Assert.Equal(accept.SpanId, run.ParentSpanId);
        Assert.NotNull(modelCall); // the agent loop's model call, in the task's trace
    }

    /// <summary>The job's job.accept span and every span of its trace received so far, once <paramref name="complete"/> holds or after 30 s.</summary>
    private async Task<(ReceivedSpan? Accept, List<ReceivedSpan> Trace)> JobTraceAsync(string jobId, Func<ReceivedSpan, List<ReceivedSpan>, bool> complete)
    {
        ReceivedSpan? accept = null;
        List<ReceivedSpan> trace = [];
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && (accept is null || !complete(accept, trace)))
        {
            await Task.Delay(500);
            var spans = fixture.Traces.Spans;
            accept = spans.FirstOrDefault(s => s.Name == "job.accept" && s.Attributes.GetValueOrDefault("aspirellm.job.id") == jobId);
            trace = accept is null ? [] : spans.Where(s => s.TraceId == accept.TraceId).ToList();
        }

        return (accept, trace);
    }
}
