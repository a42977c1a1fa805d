using AspireLlm.Api.ApiKeys;

namespace AspireLlm.UnitTests.ApiKeys;

public sealed class ApiKeyFormatTests
{
    [Fact]
    public void Generated_keys_are_prefixed_random_and_long()
    {
        var keys = Enumerable.Range(0, 100).Select(_ => ApiKeyFormat.Generate()).ToList();

        Assert.All(keys, key => Assert.StartsWith(ApiKeyFormat.Prefix, key));
        Assert.All(keys, key => Assert.Equal(ApiKeyFormat.Prefix.Length + 40, key.Length));
        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    [Fact]
    public void Hash_is_stable_per_key_and_differs_between_keys()
    {
        var key = ApiKeyFormat.Generate();

        Assert.Equal(ApiKeyFormat.Hash(key), ApiKeyFormat.Hash(key));
        Assert.NotEqual(ApiKeyFormat.Hash(key), ApiKeyFormat.Hash(key + "x"));
        Assert.Equal(32, ApiKeyFormat.Hash(key).Length);
    }

    [Fact]
    public void Public_prefix_identifies_without_revealing_the_secret()
    {
        var key = ApiKeyFormat.Generate();
        var prefix = ApiKeyFormat.PublicPrefix(key);

        Assert.StartsWith(prefix, key);
        Assert.True(key.Length - prefix.Length >= 33, "most of the key's randomness must stay secret");
        Assert.DoesNotContain("short-admin-key!", ApiKeyFormat.PublicPrefix("short-admin-key!"));
        Assert.StartsWith("key#", ApiKeyFormat.PublicPrefix("short-admin-key!"));
    }
}
