using System.Net;
using System.Net.Sockets;

namespace AspireLlm.ServiceTests.Deploy;

/// <summary>
/// What a Kubernetes Service does for the Api, in the test: a TCP (layer 4) proxy that spreads new
/// connections round-robin over the backends whose <c>/health</c> answered 200 at the last poll (every
/// 200 ms, like a readiness probe), and never retries a connection it could not open (kube-proxy does
/// not either). A backend that fails readiness stops getting new connections; the connections it has
/// go on until it closes them.
/// </summary>
public sealed class ReadinessProxy : IAsyncDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<Backend> _backends = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly HttpClient _probe = new() { Timeout = TimeSpan.FromSeconds(1) };
    private readonly Task _accepting;
    private readonly Task _polling;
    private int _next;
    private int _refused;

    public ReadinessProxy()
    {
        _listener.Start();
        BaseAddress = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _accepting = AcceptAsync(_stop.Token);
        _polling = PollAsync(_stop.Token);
    }

    public Uri BaseAddress { get; }

    /// <summary>Connections that could not be forwarded (no ready backend, or the chosen one refused).</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>New connections each backend was given, by name.</summary>
    public IReadOnlyDictionary<string, int> ConnectionsByBackend
    {
        get
        {
            lock (_backends)
            {
                return _backends.Concat(_removed).ToDictionary(backend => backend.Name, backend => backend.Connections);
            }
        }
    }

    private readonly List<Backend> _removed = [];

    public void Add(string name, Uri address)
    {
        lock (_backends)
        {
            _backends.Add(new Backend(name, address));
        }
    }

    public void Remove(string name)
    {
        lock (_backends)
        {
            var backend = _backends.Single(backend => backend.Name == name);
            _backends.Remove(backend);
            _removed.Add(backend);
        }
    }

    /// <summary>Waits until <paramref name="name"/> passed a readiness poll.</summary>
    public async Task WaitReadyAsync(string name, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            lock (_backends)
            {
                if (_backends.Any(backend => backend.Name == name && backend.Ready))
                {
                    return;
                }
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"{name} never became ready behind the proxy.");
    }

    private Backend? Pick()
    {
        lock (_backends)
        {
            var ready = _backends.Where(backend => backend.Ready).ToList();
            if (ready.Count == 0)
            {
                return null;
            }

            var backend = ready[_next++ % ready.Count];
            backend.Connections++;
            return backend;
        }
    }

    private async Task PollAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Poll);
        while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false) is true)
        {
            Backend[] backends;
            lock (_backends)
            {
                backends = [.. _backends];
            }

            await Task.WhenAll(backends.Select(async backend =>
            {
                try
                {
                    using var response = await _probe.GetAsync(new Uri(backend.Address, "/health"), stop);
                    backend.Ready = response.StatusCode == HttpStatusCode.OK;
                }
                catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
                {
                    backend.Ready = false;
                }
            }));
        }
    }

    private async Task AcceptAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(stop);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ForwardAsync(client, stop);
        }
    }

    private async Task ForwardAsync(Socket client, CancellationToken stop)
    {
        using var _ = client;
        // A load balancer keeps a new connection waiting briefly while no backend is ready, then gives up.
        Backend? backend = null;
        for (var waited = 0; backend is null && waited < 50; waited++)
        {
            backend = Pick();
            if (backend is null)
            {
                await Task.Delay(100, stop).ConfigureAwait(false);
            }
        }

        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (backend is null)
            {
                throw new SocketException((int)SocketError.ConnectionRefused);
            }

            await server.ConnectAsync(backend.Address.Host, backend.Address.Port, stop);
        }
        catch (SocketException)
        {
            Interlocked.Increment(ref _refused);
            return;
        }

        await Task.WhenAll(PipeAsync(client, server, stop), PipeAsync(server, client, stop));
    }

    /// <summary>Copies one direction until its end, then half-closes the other side, as a TCP proxy does.</summary>
    private static async Task PipeAsync(Socket from, Socket to, CancellationToken stop)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, stop);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, stop);
            }
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // A reset on one side resets the other, as with a real connection.
            try
            {
                to.LingerState = new LingerOption(true, 0);
                to.Close();
                from.Close();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await Task.WhenAll(_accepting, _polling.ContinueWith(_ => { }, TaskScheduler.Default));
        _probe.Dispose();
        _stop.Dispose();
    }

    private sealed class Backend(string name, Uri address)
    {
        public string Name { get; } = name;
        public Uri Address { get; } = address;
        public volatile bool Ready;
        public int Connections;
    }
}
