using System.Text.Json;
using AspireLlm.Api.Admin;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Errors;
using AspireLlm.Api.Gateway;
using AspireLlm.Api.Jobs;
using AspireLlm.Api.Models;
using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Storage;
using AspireLlm.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNpgsqlDataSource(ResourceNames.Database, configureDataSourceBuilder: DatabaseTuning.Configure);
builder.AddRedisClient(ResourceNames.Redis);
builder.AddGateway(); // before AddOrchestration: it registers the real admission
builder.AddOrchestration();
builder.AddApiKeys();
builder.AddJobs();
builder.AddApiErrors();

builder.Services.ConfigureHttpJsonOptions(options =>
    options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
builder.Services.AddOpenApi();

var app = builder.Build();

app.UseRequestIds();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapModelsEndpoints();
app.MapGatewayEndpoints();
app.MapJobsEndpoints();
app.MapAdminEndpoints();
app.MapWebhookSecretEndpoints();

app.Run();

/// <summary>Visible to the service tests' WebApplicationFactory.</summary>
public partial class Program;
