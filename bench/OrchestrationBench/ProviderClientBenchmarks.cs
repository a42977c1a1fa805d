using System.Buffers;
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.AI;
using OpenAI;

namespace AspireLlm.OrchestrationBench;

/// <summary>
/// What the OpenAI SDK (behind Microsoft.Extensions.AI, set up as ProviderClientFactory sets it up) costs
/// per chat call on top of the HTTP exchange itself, which any client pays. Both answer from memory with
/// the mock provider's answer (bench/workload), so neither includes a socket: the difference is the
/// most a hand-written OpenAI-compatible client could save.
/// </summary>
[MemoryDiagnoser]
public class ProviderClientBenchmarks
{
    private static readonly Uri Endpoint = new("http://127.0.0.1:1/v1/");

    private static readonly byte[] Answer = Encoding.UTF8.GetBytes(
        """{"id":"chatcmpl-mock-0000000001","object":"chat.completion","created":1764680000,"model":"mock-model","choices":[{"index":0,"message":{"role":"assistant","content":"alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango.","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":57,"completion_tokens":20,"total_tokens":77}}""");

    private readonly ChatMessage[] _messages =
    [
        new(ChatRole.System, "You are a concise assistant for a software team. Answer in plain text."),
        new(ChatRole.User, "Our service calls an LLM provider through a gateway. List three things the gateway should log for each request, and say in one sentence why each one matters."),
    ];

    private readonly ChatOptions _options = new() { MaxOutputTokens = 128, Temperature = 0.2f };
    private HttpClient _http = null!;
    private IChatClient _sdk = null!;

    [GlobalSetup]
    public void Setup()
    {
        _http = new HttpClient(new AnswerFromMemory());
        _sdk = new OpenAIClient(new ApiKeyCredential("sk-bench"), new OpenAIClientOptions
        {
            Endpoint = Endpoint,
            Transport = new HttpClientPipelineTransport(_http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = Timeout.InfiniteTimeSpan,
        }).GetChatClient("mock-model").AsIChatClient();
    }

    [GlobalCleanup]
    public void Cleanup() => _http.Dispose();

    [Benchmark(Baseline = true, Description = "the HTTP exchange alone: body written, answer read")]
    public async Task<int> HttpExchange()
    {
        var body = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteString("model", "mock-model");
            writer.WriteStartArray("messages");
            foreach (var message in _messages)
            {
                writer.WriteStartObject();
                writer.WriteString("role", message.Role.Value);
                writer.WriteString("content", message.Text);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteNumber("max_completion_tokens", 128);
            writer.WriteNumber("temperature", 0.2);
            writer.WriteEndObject();
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Endpoint, "chat/completions")) { Content = new ReadOnlyMemoryContent(body.WrittenMemory) };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer sk-bench");
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return (await response.Content.ReadAsByteArrayAsync()).Length;
    }

    [Benchmark(Description = "the OpenAI SDK through Microsoft.Extensions.AI")]
    public async Task<int> OpenAiSdk() => (await _sdk.GetResponseAsync(_messages, _options)).Text.Length;

    private sealed class AnswerFromMemory : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content is { } content)
            {
                await content.CopyToAsync(Stream.Null, cancellationToken);
            }

            return new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new ByteArrayContent(Answer) { Headers = { ContentType = new("application/json") } },
            };
        }
    }
}
