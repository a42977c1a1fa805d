using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Storage;
using AspireLlm.ServiceDefaults;
using AspireLlm.Worker.Jobs;
using AspireLlm.Worker.Migrations;
using AspireLlm.Worker.Webhooks;

if (args is ["migrate", ..])
{
    return await MigrationCommand.RunAsync(args[1..]);
}

// The Worker is a web host only so that it has /health, /alive and metrics; it serves nothing else.
var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNpgsqlDataSource(ResourceNames.Database, configureDataSourceBuilder: DatabaseTuning.Configure);
builder.AddRedisClient(ResourceNames.Redis);
builder.AddOrchestration();
builder.AddJobProcessing();
builder.AddWebhooks();

var app = builder.Build();
app.MapDefaultEndpoints();
await app.RunAsync();
return 0;
