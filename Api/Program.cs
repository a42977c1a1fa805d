using System.Text.Json;
using AspireLlm.Api.Admin;
using AspireLlm.Api.ApiKeys;
using AspireLlm.Api.Errors;
using AspireLlm.Api.Jobs;
using AspireLlm.Api.Models;
using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Storage;
using AspireLlm.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNpgsqlDataSource(ResourceNames.Database, configureDataSourceBuilder: DatabaseTuning.Configure);
builder.AddRedisClient(ResourceNames.Redis);
builder.AddOrchestration();
builder.AddApiKeys();
builder.AddJobs();
builder.AddApiErrors();

builder.Services.ConfigureHttpJsonOptions(options =>
    options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
builder.Services.AddOpenApi();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapModelsEndpoints();
app.MapJobsEndpoints();
app.MapAdminEndpoints();
app.MapWebhookSecretEndpoints();

app.Run();

/// <summary>Visible to the service tests' WebApplicationFactory.</summary>
public partial class Program;
