using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace AspireLlm.Tests.Shared;

/// <summary>A real WebSocket client of the agent protocol, for tests and the benchmark: frames out, events in.</summary>
public sealed class AgentSocketClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;

    private AgentSocketClient(ClientWebSocket socket) => _socket = socket;

    public WebSocket Socket => _socket;

    /// <summary>Every event received so far, in order.</summary>
    public List<JsonElement> Received { get; } = [];

    /// <param name="baseAddress">The Api's http(s) address; the socket goes to its <c>/v1/agents/ws</c>.</param>
    public static async Task<AgentSocketClient> ConnectAsync(Uri baseAddress, string? key, string? ticket = null, CancellationToken cancellationToken = default)
    {
        var socket = Create(key);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        await socket.ConnectAsync(Address(baseAddress, ticket), timeout.Token);
        return new AgentSocketClient(socket);
    }

    /// <summary>The status the upgrade was refused with (e.g. 401, 429), or null when it was accepted.</summary>
    public static async Task<int?> RefusalAsync(Uri baseAddress, string? key, string? ticket = null)
    {
        using var socket = Create(key);
        try
        {
            await socket.ConnectAsync(Address(baseAddress, ticket), CancellationToken.None);
            await new AgentSocketClient(socket).CloseAsync();
            return null;
        }
        catch (WebSocketException)
        {
            return (int)socket.HttpStatusCode;
        }
    }

    private static ClientWebSocket Create(string? key)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (key is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + key);
        }

        return socket;
    }

    private static Uri Address(Uri baseAddress, string? ticket)
    {
        var uri = new UriBuilder(baseAddress) { Scheme = baseAddress.Scheme == "https" ? "wss" : "ws", Path = "/v1/agents/ws" };
        if (ticket is not null)
        {
            uri.Query = "ticket=" + Uri.EscapeDataString(ticket);
        }

        return uri.Uri;
    }

    public Task SendAsync(object frame) => SendTextAsync(JsonSerializer.Serialize(frame));

    public Task SendTextAsync(string text) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    public Task SendBinaryAsync(byte[] bytes) => _socket.SendAsync(bytes, WebSocketMessageType.Binary, true, CancellationToken.None);

    /// <summary>The next event, or null when the server closed the socket.</summary>
    public async Task<JsonElement?> ReceiveAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(buffer, cancellation.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        var element = JsonDocument.Parse(message.ToArray()).RootElement.Clone();
        Received.Add(element);
        return element;
    }

    /// <summary>Events until one matches <paramref name="last"/> (included); fails on close or timeout.</summary>
    public async Task<List<JsonElement>> ReceiveUntilAsync(Func<JsonElement, bool> last, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var events = new List<JsonElement>();
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            var next = left > TimeSpan.Zero ? await ReceiveAsync(left) : null;
            if (next is not { } item)
            {
                throw new InvalidOperationException("The socket closed (or went quiet) before the expected event; got: "
                    + string.Join(" | ", events.Select(e => e.GetRawText())));
            }

            events.Add(item);
            if (last(item))
            {
                return events;
            }
        }
    }

    public static Func<JsonElement, bool> OfType(string type) => item => item.GetProperty("type").GetString() == type;

    public async Task CloseAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        _socket.Dispose();
    }
}
