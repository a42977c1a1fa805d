using AspireLlm.AppHost;
using AspireLlm.ServiceDefaults;

var builder = DistributedApplication.CreateBuilder(args);

// Redis and Postgres: containers where a container runtime exists (and always in publish mode),
// local processes where none does. See InfrastructureExtensions.
var infrastructure = builder.AddInfrastructure();
var redis = infrastructure.Redis;
var database = infrastructure.Database;
var vectors = infrastructure.Vectors;

// Only the Api and the dashboard are reachable from outside a deployment (WithExternalHttpEndpoints:
// public ingress on Azure Container Apps, the allow-public NetworkPolicy in deploy/kubernetes).

// Secrets. A missing provider key means the simulator provider serves every alias; a missing admin
// key is generated once, kept in the AppHost's user secrets and shown in the Aspire dashboard. The
// conversation key is the content encryption key "k1" (Encryption:Keys adds more for rotation); the
// Api and the Worker both seal and open content with it.
var adminKey = builder.AddParameter(ResourceNames.AdminKey,
    new GenerateParameterDefault { MinLength = 40, Special = false }, secret: true, persist: true);
var conversationKey = builder.AddParameter(ResourceNames.ConversationKey,
    new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true, persist: true);
var openAiKey = builder.AddOptionalSecret(ResourceNames.OpenAiKey);
var anthropicKey = builder.AddOptionalSecret(ResourceNames.AnthropicKey);

// One-shot schema migration (our tables and Hangfire's), awaited by everything that uses the database.
// It has the content key too: it seals anything an older version stored in the clear.
var migrations = builder.AddProject<Projects.Worker>(ResourceNames.Migrations, launchProfileName: null)
    .WithArgs("migrate")
    .WithReference(database, ResourceNames.Database).WaitFor(database)
    .WithEnvironment("Conversations__EncryptionKey", conversationKey);

var api = builder.AddProject<Projects.Api>(ResourceNames.Api)
    .WithRuntimeSettings()
    .WithInlineSocketCompletions()
    .WithReference(redis, ResourceNames.Redis).WaitFor(redis)
    .WithReference(vectors, ResourceNames.Vectors).WaitFor(vectors)
    .WithReference(database, ResourceNames.Database).WaitFor(database)
    .WaitForCompletion(migrations)
    .WithEnvironment("Admin__BootstrapKey", adminKey)
    .WithEnvironment("Conversations__EncryptionKey", conversationKey)
    .WithEnvironment("Providers__OpenAI__ApiKey", openAiKey)
    .WithEnvironment("Providers__Anthropic__ApiKey", anthropicKey)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints()
    .WithReplicas(builder.GetReplicas(ResourceNames.Api));

var worker = builder.AddProject<Projects.Worker>(ResourceNames.Worker)
    .WithRuntimeSettings()
    .WithReference(redis, ResourceNames.Redis).WaitFor(redis)
    .WithReference(vectors, ResourceNames.Vectors).WaitFor(vectors)
    .WithReference(database, ResourceNames.Database).WaitFor(database)
    .WaitForCompletion(migrations)
    .WithEnvironment("Conversations__EncryptionKey", conversationKey)
    .WithEnvironment("Providers__OpenAI__ApiKey", openAiKey)
    .WithEnvironment("Providers__Anthropic__ApiKey", anthropicKey)
    .WithHttpHealthCheck("/health")
    .WithReplicas(builder.GetReplicas(ResourceNames.Worker));

// A small MCP server of ours, so the default agent has MCP tools to show on F5. Only when run: a
// deployment registers its own MCP servers (Agents:McpServers) and never ships the sample.
if (builder.ExecutionContext.IsRunMode)
{
    var mcpSample = builder.AddProject<Projects.McpSample>(ResourceNames.McpSample)
        .WithHttpHealthCheck("/health");
    worker.WithSampleMcpTools(mcpSample);
}

builder.AddProject<Projects.Dashboard_Web>(ResourceNames.Dashboard)
    .WithRuntimeSettings()
    .WithReference(api).WaitFor(api)
    .WithEnvironment("Admin__ApiKey", adminKey)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();

builder.Build().Run();
