using AspireLlm.Tests.Shared;

namespace AspireLlm.GatewayBench;

/// <summary>CPU per request of a freshly started Api, in windows from its start, while it serves under load.</summary>
internal static class WarmUpCurve
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    public sealed record Point(TimeSpan From, TimeSpan To, double RequestsPerSecond, double CpuPerRequestMicros);

    public static async Task<List<Point>> MeasureAsync(ServiceProcess api, GatewayUnderTest bench, string script, TimeSpan length)
    {
        var points = new List<Point>();
        var url = bench.ChatUrl(api);
        while (DateTime.UtcNow - bench.StartedAt < length)
        {
            var from = DateTime.UtcNow - bench.StartedAt;
            var cpuBefore = api.CpuTime();
            var result = await Wrk.RunAsync(url, 16, Window, script);
            points.Add(new Point(from, DateTime.UtcNow - bench.StartedAt, result.RequestsPerSecond,
                (api.CpuTime() - cpuBefore).TotalMicroseconds / Math.Max(1, result.Requests)));
        }

        return points;
    }

    /// <summary>Seconds from the start until CPU per request stays within 1.5× of the last window's.</summary>
    public static double TimeToSteady(IReadOnlyList<Point> curve)
    {
        var steady = curve[^1].CpuPerRequestMicros;
        var settled = curve.Count - 1;
        while (settled > 0 && curve[settled - 1].CpuPerRequestMicros <= 1.5 * steady)
        {
            settled--;
        }

        return settled == 0 ? curve[0].From.TotalSeconds : curve[settled - 1].To.TotalSeconds;
    }
}
