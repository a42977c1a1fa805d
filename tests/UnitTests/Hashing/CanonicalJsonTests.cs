using System.Text.Json;
using AspireLlm.Orchestration.Hashing;

namespace AspireLlm.UnitTests.Hashing;

public sealed class CanonicalJsonTests
{
    private static byte[] Hash(string json)
    {
        using var document = JsonDocument.Parse(json);
        return CanonicalJson.Hash(document.RootElement);
    }

    [Theory]
    [InlineData("""{"a":1,"b":{"c":[1,2],"d":"x"}}""", """{ "b": { "d": "x", "c": [1, 2] }, "a": 1 }""")]
    [InlineData("""{"t":1}""", """{"t":1.0}""")]
    [InlineData("""{"t":0.5}""", """{"t":5e-1}""")]
    [InlineData("""{"s":"é"}""", """{"s":"\u00e9"}""")]
    public void Equivalent_documents_hash_the_same(string left, string right) =>
        Assert.Equal(Hash(left), Hash(right));

    [Theory]
    [InlineData("""{"a":1}""", """{"a":2}""")]
    [InlineData("""{"a":[1,2]}""", """{"a":[2,1]}""")]
    [InlineData("""{"a":"1"}""", """{"a":1}""")]
    [InlineData("""{"a":null}""", """{}""")]
    [InlineData("""{"a":{"b":1}}""", """{"a":{"B":1}}""")]
    [InlineData("""{"m":[{"role":"user","content":"hi"}]}""", """{"m":[{"role":"system","content":"hi"}]}""")]
    public void Any_real_difference_changes_the_hash(string left, string right) =>
        Assert.NotEqual(Hash(left), Hash(right));
}
