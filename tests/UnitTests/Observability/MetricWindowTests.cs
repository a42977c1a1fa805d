using AspireLlm.Api.Admin;

namespace AspireLlm.UnitTests.Observability;

/// <summary>Which rollup each dashboard range reads and the points it shows.</summary>
public sealed class MetricWindowTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 14, 37, 20, TimeSpan.Zero);

    [Fact]
    public void The_hour_is_sixty_minute_points_from_the_minute_rollup()
    {
        var window = MetricWindow.Of("hour", Now)!;

        Assert.False(window.Hourly);
        Assert.Equal(60, window.Points().Count);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 13, 38, 0, TimeSpan.Zero), window.From);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 14, 37, 0, TimeSpan.Zero), window.Points()[^1]);
    }

    [Fact]
    public void The_day_is_twenty_four_hour_points_from_the_hour_rollup_ending_with_the_hour_still_filling()
    {
        var window = MetricWindow.Of("day", Now)!;

        Assert.True(window.Hourly);
        Assert.Equal(TimeSpan.FromHours(1), window.Step);
        Assert.Equal(24, window.Points().Count);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 15, 0, 0, TimeSpan.Zero), window.From);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 14, 0, 0, TimeSpan.Zero), window.Points()[^1]);
    }

    [Fact]
    public void The_month_is_thirty_day_points_from_the_hour_rollup_and_other_ranges_are_refused()
    {
        var window = MetricWindow.Of("month", Now)!;

        Assert.True(window.Hourly);
        Assert.Equal(30, window.Points().Count);
        Assert.Null(MetricWindow.Of("week", Now));
    }
}
