using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Storage;
using AspireLlm.ServiceDefaults;
using AspireLlm.Worker.Agents;
using AspireLlm.Worker.Jobs;
using AspireLlm.Worker.Migrations;
using AspireLlm.Worker.Observability;
using AspireLlm.Worker.Retention;
using AspireLlm.Worker.Webhooks;

if (args is ["migrate", ..])
{
    return await MigrationCommand.RunAsync(args[1..]);
}

// The Worker is a web host only so that it has /health, /alive and metrics; it serves nothing else.
var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNpgsqlDataSource(ResourceNames.Database, configureDataSourceBuilder: DatabaseTuning.Configure);
// The thread pool rather than the Redis client's own dedicated threads: on small machines those
// threads' hand-offs cost more CPU than the Redis commands themselves (measured by bench/GatewayBench).
builder.AddRedisClient(ResourceNames.Redis, configureOptions: options => options.SocketManager = StackExchange.Redis.SocketManager.ThreadPool);
if (builder.Configuration.GetConnectionString(ResourceNames.Vectors) is { Length: > 0 })
{
    builder.AddKeyedRedisClient(ResourceNames.Vectors, configureOptions: options => options.SocketManager = StackExchange.Redis.SocketManager.ThreadPool);
}

builder.AddRedisAdmission(); // jobs are charged to their key's limits and budgets too
builder.AddOrchestration();
builder.AddRetrieval();
builder.AddJobProcessing();
builder.AddAgents();
builder.AddWebhooks();
builder.AddRetention();
builder.AddWorkerObservability();

var app = builder.Build();
app.MapDefaultEndpoints();
await app.RunAsync();
return 0;
