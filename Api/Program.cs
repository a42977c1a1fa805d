using System.Text.Json;
using AspireLlm.Api.Admin;
using AspireLlm.Api.Agents;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Collections;
using AspireLlm.Api.Errors;
using AspireLlm.Api.Gateway;
using AspireLlm.Api.Hosting;
using AspireLlm.Api.Jobs;
using AspireLlm.Api.Models;
using AspireLlm.Api.Observability;
using AspireLlm.Api.Streams;
using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Storage;
using AspireLlm.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.WebHost.UseSockets(options => options.UnsafePreferInlineScheduling = InlineSocketCompletions.Enabled);
builder.AddNpgsqlDataSource(ResourceNames.Database, configureDataSourceBuilder: DatabaseTuning.Configure);
// The thread pool rather than the Redis client's own dedicated threads: on small machines those
// threads' hand-offs cost more CPU than the Redis commands themselves (measured by bench/GatewayBench).
builder.AddRedisClient(ResourceNames.Redis, configureOptions: options => options.SocketManager = StackExchange.Redis.SocketManager.ThreadPool);
if (builder.Configuration.GetConnectionString(ResourceNames.Vectors) is { Length: > 0 })
{
    builder.AddKeyedRedisClient(ResourceNames.Vectors, configureOptions: options => options.SocketManager = StackExchange.Redis.SocketManager.ThreadPool);
}

builder.AddGateway(); // before AddOrchestration: it registers the real admission
builder.AddOrchestration();
builder.AddLocalEmbeddingWarmUp();
builder.AddRetrieval();
builder.AddApiKeys();
builder.AddJobs();
builder.AddOpenStreams();
builder.AddAgents();
builder.AddApiErrors();
builder.AddApiObservability();

builder.Services.ConfigureHttpJsonOptions(options =>
{
    options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
    // Bound request bodies (the admin endpoints') are read as strictly as the hand-read ones: a
    // misspelt or repeated field is an error, never silently ignored or last-one-wins.
    options.SerializerOptions.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow;
    options.SerializerOptions.AllowDuplicateProperties = false;
});
builder.Services.AddOpenApi();

var app = builder.Build();
app.ConnectRedisClients();

app.UseRequestIds();
app.UseExceptionHandler();
app.UseErrorStatusBodies();
app.UseWebSockets();
app.UseAuthentication();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapModelsEndpoints();
app.MapGatewayEndpoints();
app.MapJobsEndpoints();
app.MapCollectionsEndpoints();
app.MapAgentsEndpoints();
app.MapAdminEndpoints();
app.MapWebhookSecretEndpoints();

app.Run();

/// <summary>Visible to the service tests' WebApplicationFactory.</summary>
public partial class Program;
