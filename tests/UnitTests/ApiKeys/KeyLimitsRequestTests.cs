using System.Text.Json;
using AspireLlm.Api.Admin;
using AspireLlm.Orchestration.Admission;

namespace AspireLlm.UnitTests.ApiKeys;

/// <summary>A limit left out of a key request is the default; one sent, null included, is what was sent.</summary>
public sealed class KeyLimitsRequestTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private static readonly KeyLimits Defaults = new(["gpt-4o-mini"], 600, 1_000_000, 5000, 6000, 1.5m, 20m);

    [Fact]
    public void Fields_left_out_take_the_fallback()
    {
        var request = JsonSerializer.Deserialize<CreateKeyRequest>("""{"tenant_id":"t","name":"n"}""", Json)!;

        Assert.Equal(Defaults, request.Over(Defaults));
    }

    [Fact]
    public void Fields_sent_win_and_a_null_sent_means_no_limit()
    {
        var request = JsonSerializer.Deserialize<CreateKeyRequest>(
            """{"tenant_id":"t","name":"n","requests_per_minute":7,"tokens_per_minute":null,"allowed_models":null,"monthly_cost_budget":2.5}""", Json)!;

        var limits = request.Over(Defaults);

        Assert.Equal(new KeyLimits(null, 7, null, 5000, 6000, 1.5m, 2.5m), limits);
        Assert.Equal(new KeyLimits(null, 7, null, null, null, null, 2.5m), request.Limits());
    }
}
