using AspireLlm.Api.Jobs;

namespace AspireLlm.UnitTests.Jobs;

public sealed class IdempotencyKeysTests
{
    [Theory]
    [InlineData("a", true)]
    [InlineData("order-2026-11-26/42", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("naïve", false)]
    [InlineData("tab\tkey", false)]
    public void Keys_are_printable_ascii(string key, bool valid) => Assert.Equal(valid, IdempotencyKeys.IsValid(key));

    [Fact]
    public void Keys_are_at_most_255_characters()
    {
        Assert.True(IdempotencyKeys.IsValid(new string('k', 255)));
        Assert.False(IdempotencyKeys.IsValid(new string('k', 256)));
    }

    [Fact]
    public void Requests_match_only_on_equal_hashes()
    {
        Assert.True(IdempotencyKeys.SameRequest([1, 2, 3], [1, 2, 3]));
        Assert.False(IdempotencyKeys.SameRequest([1, 2, 3], [1, 2, 4]));
    }
}
