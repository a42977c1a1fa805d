using AspireLlm.McpSample;
using AspireLlm.ServiceDefaults;

// A small MCP server of ours, so that F5 shows an agent using tools from an MCP server
// (Streamable HTTP at /mcp). The AppHost gives its address to the Workers as Agents:McpServers:sample.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddMcpServer().WithHttpTransport(options => options.Stateless = true).WithTools<SampleTools>();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapMcp(SampleTools.Path);
app.Run();
