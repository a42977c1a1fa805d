using System.Net;
using AspireLlm.Orchestration.Jobs.Webhooks;

namespace AspireLlm.UnitTests.Webhooks;

public sealed class WebhookDestinationTests
{
    [Theory]
    [InlineData("93.184.216.34", true)]
    [InlineData("2606:4700::1111", true)]
    [InlineData("10.0.0.1", false)]
    [InlineData("172.16.5.4", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("64:ff9b::a00:1", false)]      // NAT64 of 10.0.0.1
    [InlineData("64:ff9b::5db8:d822", true)]   // NAT64 of 93.184.216.34
    [InlineData("2002:a9fe:a9fe::1", false)]   // 6to4 of 169.254.169.254
    public void Only_public_addresses_are_allowed(string address, bool isPublic) =>
        Assert.Equal(isPublic, WebhookDestination.IsPublic(IPAddress.Parse(address)));

    [Fact]
    public void Private_destinations_are_allowed_only_when_configured()
    {
        Assert.NotNull(WebhookDestination.Check("http://127.0.0.1:9000/hook", allowPrivateNetworks: false));
        Assert.Null(WebhookDestination.Check("http://127.0.0.1:9000/hook", allowPrivateNetworks: true));
        Assert.NotNull(WebhookDestination.Check("file:///etc/passwd", allowPrivateNetworks: true));
        Assert.Null(WebhookDestination.Check("https://hooks.example.com/aspirellm", allowPrivateNetworks: false));
    }

    [Fact]
    public void Signature_covers_timestamp_and_body()
    {
        var signature = WebhookSignature.Sign("secret", 1_700_000_000, "{\"a\":1}");
        var now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_100);

        Assert.True(WebhookSignature.Verify("secret", 1_700_000_000, "{\"a\":1}", signature, now, TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify("secret", 1_700_000_000, "{\"a\":2}", signature, now, TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify("other", 1_700_000_000, "{\"a\":1}", signature, now, TimeSpan.FromMinutes(5)));
        Assert.False(WebhookSignature.Verify("secret", 1_700_000_000, "{\"a\":1}", signature, now.AddHours(1), TimeSpan.FromMinutes(5)));
    }
}
