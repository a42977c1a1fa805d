using Microsoft.AspNetCore.Components;

namespace AspireLlm.Dashboard.Web.Components.Shared;

/// <summary>
/// A page that shows live figures from the Api: loads them on its first render (prerendered, so the
/// first response already holds them), then every <see cref="RefreshInterval"/>. When the Api does not
/// answer, the page keeps what it last showed, says since when the Api is unreachable and when it will
/// try again, and retries with exponential backoff (2 s up to 30 s) until it answers; nothing it
/// throws ends the refresh loop.
/// </summary>
public abstract class LivePage : ComponentBase, IDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private readonly CancellationTokenSource _stop = new();
    private int _failures;

    /// <summary>When the Api stopped answering; null while it answers.</summary>
    public DateTimeOffset? OutageSince { get; private set; }

    /// <summary>When the next attempt is due during an outage.</summary>
    public DateTimeOffset? NextAttempt { get; private set; }

    /// <summary>What went wrong last (the Api's status, or that it could not be reached).</summary>
    public string? OutageReason { get; private set; }

    public DateTimeOffset? LastRefresh { get; private set; }

    /// <summary>Attempts in a row that found the Api not answering (0 while it answers).</summary>
    public int Failures => _failures;

    /// <summary>The pause before the next attempt: the refresh interval, or the backoff during an outage.</summary>
    public TimeSpan RetryIn => Backoff();

    /// <summary>True once the first load has finished, whatever its outcome.</summary>
    public bool Loaded { get; private set; }

    protected virtual TimeSpan RefreshInterval => TimeSpan.FromSeconds(5);

    /// <summary>Loads the page's figures; throws when the Api does not answer.</summary>
    protected abstract Task LoadAsync(CancellationToken cancellationToken);

    protected CancellationToken Stopping => _stop.Token;

    protected override async Task OnInitializedAsync()
    {
        await RefreshAsync();
        if (RendererInfo.IsInteractive)
        {
            _ = LoopAsync();
        }
    }

    /// <summary>Loads now (after a filter changed, or an action); records an outage instead of throwing.</summary>
    protected async Task RefreshAsync()
    {
        try
        {
            await LoadAsync(_stop.Token);
            (_failures, OutageSince, NextAttempt, OutageReason) = (0, null, null, null);
            LastRefresh = DateTimeOffset.UtcNow;
        }
        catch (Exception exception) when (!_stop.IsCancellationRequested)
        {
            _failures++;
            OutageSince ??= DateTimeOffset.UtcNow;
            OutageReason = exception is HttpRequestException { StatusCode: { } status } ? $"it answered {(int)status}" : "it could not be reached";
            NextAttempt = DateTimeOffset.UtcNow + Backoff();
        }
        finally
        {
            Loaded = true;
        }
    }

    private TimeSpan Backoff() => _failures == 0 ? RefreshInterval
        : TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, Math.Min(_failures, 5))));

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(OutageSince is null ? RefreshInterval : Backoff(), _stop.Token);
                await InvokeAsync(async () =>
                {
                    await RefreshAsync();
                    StateHasChanged();
                });
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception) when (!_stop.IsCancellationRequested)
            {
                // A render that failed must not end the loop: the next tick tries again.
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}
