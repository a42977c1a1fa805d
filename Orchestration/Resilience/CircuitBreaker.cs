namespace AspireLlm.Orchestration.Resilience;

/// <summary>
/// One deployment's circuit: CLOSED → OPEN on a failure ratio over a sliding window (with a minimum
/// number of calls) or on consecutive failures; OPEN → HALF_OPEN after the break, when exactly one
/// probe call is let through; the probe's outcome closes or reopens it.
/// Written by hand rather than taken from Polly because it must also (a) open on consecutive
/// failures, (b) accept state from other replicas (see <see cref="SharedBreakerBoard"/>), and
/// (c) answer "is it open?" without allocating or throwing, so a dead deployment costs
/// nanoseconds to skip. Polly does the retries around it.
/// </summary>
public sealed class CircuitBreaker
{
    private const int BucketCount = 10;

    private readonly BreakerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _gate = new();
    private readonly long _bucketTicks;
    private readonly (long Start, int Successes, int Failures)[] _buckets = new (long, int, int)[BucketCount];
    private volatile BreakerState _state = BreakerState.Closed;
    private long _openUntilTicks;
    private bool _probeInFlight;
    private int _consecutiveFailures;

    public CircuitBreaker(string deployment, BreakerOptions options, TimeProvider timeProvider)
    {
        Deployment = deployment;
        _options = options;
        _timeProvider = timeProvider;
        _bucketTicks = Math.Max(1, options.SamplingDuration.Ticks / BucketCount);
    }

    public string Deployment { get; }

    /// <summary>Raised after every change of state, outside the lock.</summary>
    public event Action<BreakerTransition>? Transitioned;

    public BreakerState State => _state;

    /// <summary>
    /// True when a call must not be sent now; <paramref name="retryAfter"/> says for how long.
    /// Lock-free while closed, which is nearly always.
    /// </summary>
    public bool IsOpen(out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        var state = _state;
        if (state == BreakerState.Closed)
        {
            return false;
        }

        var remaining = Volatile.Read(ref _openUntilTicks) - NowTicks;
        if (state == BreakerState.Open && remaining > 0)
        {
            retryAfter = TimeSpan.FromTicks(remaining);
            return true;
        }

        // Past the break: open only while someone else's probe is out.
        lock (_gate)
        {
            if (_state == BreakerState.HalfOpen && _probeInFlight)
            {
                retryAfter = TimeSpan.FromSeconds(1);
                return true;
            }
        }

        return false;
    }

    /// <summary>Claims the right to call. In half-open, only one caller gets it, as the probe.</summary>
    public bool TryAcquire(out bool isProbe)
    {
        isProbe = false;
        if (_state == BreakerState.Closed)
        {
            return true;
        }

        BreakerTransition? transition = null;
        bool acquired;
        lock (_gate)
        {
            if (_state == BreakerState.Open && NowTicks >= _openUntilTicks)
            {
                transition = SetState(BreakerState.HalfOpen, TimeSpan.Zero, remote: false);
            }

            acquired = _state switch
            {
                BreakerState.Closed => true,
                BreakerState.HalfOpen when !_probeInFlight => isProbe = _probeInFlight = true,
                _ => false,
            };
        }

        Raise(transition);
        return acquired;
    }

    public void OnSuccess(bool isProbe)
    {
        BreakerTransition? transition = null;
        lock (_gate)
        {
            _consecutiveFailures = 0;
            if (isProbe)
            {
                _probeInFlight = false;
                ResetWindow();
                transition = SetState(BreakerState.Closed, TimeSpan.Zero, remote: false);
            }
            else
            {
                Record(success: true);
            }
        }

        Raise(transition);
    }

    public void OnFailure(bool isProbe)
    {
        BreakerTransition? transition = null;
        lock (_gate)
        {
            _consecutiveFailures++;
            if (isProbe)
            {
                _probeInFlight = false;
                transition = SetState(BreakerState.Open, _options.BreakDuration, remote: false);
            }
            else if (_state == BreakerState.Closed)
            {
                Record(success: false);
                if (ShouldOpen())
                {
                    transition = SetState(BreakerState.Open, _options.BreakDuration, remote: false);
                }
            }
        }

        Raise(transition);
    }

    /// <summary>The probe ended without a verdict (its caller gave up); let the next caller probe.</summary>
    public void ReleaseProbe()
    {
        lock (_gate)
        {
            _probeInFlight = false;
        }
    }

    /// <summary>Another replica opened this deployment's circuit for <paramref name="openFor"/>.</summary>
    public void ApplyRemoteOpen(TimeSpan openFor)
    {
        BreakerTransition? transition = null;
        lock (_gate)
        {
            var until = NowTicks + openFor.Ticks;
            if (openFor > TimeSpan.Zero && (_state != BreakerState.Open || until > _openUntilTicks))
            {
                transition = SetState(BreakerState.Open, openFor, remote: true);
            }
        }

        Raise(transition);
    }

    /// <summary>Another replica's probe succeeded: the deployment is healthy again.</summary>
    public void ApplyRemoteClose()
    {
        BreakerTransition? transition = null;
        lock (_gate)
        {
            if (_state != BreakerState.Closed)
            {
                _probeInFlight = false;
                _consecutiveFailures = 0;
                ResetWindow();
                transition = SetState(BreakerState.Closed, TimeSpan.Zero, remote: true);
            }
        }

        Raise(transition);
    }

    private long NowTicks => _timeProvider.GetUtcNow().UtcTicks;

    private bool ShouldOpen()
    {
        if (_consecutiveFailures >= _options.ConsecutiveFailures)
        {
            return true;
        }

        var horizon = NowTicks - _options.SamplingDuration.Ticks;
        int successes = 0, failures = 0;
        foreach (var bucket in _buckets)
        {
            if (bucket.Start > horizon)
            {
                successes += bucket.Successes;
                failures += bucket.Failures;
            }
        }

        var total = successes + failures;
        return total >= _options.MinimumThroughput && failures >= _options.FailureRatio * total;
    }

    private void Record(bool success)
    {
        var now = NowTicks;
        var start = now - now % _bucketTicks;
        ref var bucket = ref _buckets[start / _bucketTicks % BucketCount];
        if (bucket.Start != start)
        {
            bucket = (start, 0, 0);
        }

        if (success)
        {
            bucket.Successes++;
        }
        else
        {
            bucket.Failures++;
        }
    }

    private void ResetWindow() => Array.Clear(_buckets);

    private BreakerTransition SetState(BreakerState state, TimeSpan openFor, bool remote)
    {
        var from = _state;
        Volatile.Write(ref _openUntilTicks, state == BreakerState.Open ? NowTicks + openFor.Ticks : 0);
        _state = state;
        return new BreakerTransition(Deployment, from, state, openFor, remote);
    }

    private void Raise(BreakerTransition? transition)
    {
        if (transition is { } value && value.From != value.To)
        {
            Transitioned?.Invoke(value);
        }
    }
}

public enum BreakerState
{
    Closed,
    Open,
    HalfOpen,
}

/// <summary>A change of circuit state; <paramref name="Remote"/> when it was learnt from another replica.</summary>
public readonly record struct BreakerTransition(string Deployment, BreakerState From, BreakerState To, TimeSpan OpenFor, bool Remote);
