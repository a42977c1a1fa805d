using AspireLlm.Orchestration.Tokens;
using Microsoft.ML.Tokenizers;

namespace AspireLlm.UnitTests.Orchestration;

/// <summary>Token counts stay exact on ordinary text while no run of characters is tokenised whole beyond a bound.</summary>
public sealed class TokenCounterTests
{
    private static readonly Tokenizer O200k = TiktokenTokenizer.CreateForEncoding("o200k_base");

    [Theory]
    [InlineData("The quick brown fox jumps over the lazy dog. It was not amused; nobody asked it, after all.")]
    [InlineData("Gäste aßen Frühstück — 東京で朝ごはんを食べました。 Привет, мир! 👩🏽‍💻 done.")]
    [InlineData("line one\n\n\tline two   with  odd   spacing\r\nend")]
    public void Ordinary_text_is_counted_exactly(string sentence)
    {
        var text = string.Join(' ', Enumerable.Repeat(sentence, 200));

        Assert.Equal(O200k.CountTokens(text), TokenCounter.Shared.CountText(text, TokenEncoding.O200k));
    }

    [Theory]
    [InlineData("x")]
    [InlineData("ab")]
    [InlineData("!?")]
    [InlineData(" ")]
    [InlineData("的")]
    [InlineData("😀")]
    public void A_long_unbroken_run_is_counted_in_pieces_that_never_undercount(string unit)
    {
        // Long enough to have many pieces, short enough that the tokenizer can still count it whole here.
        var text = string.Concat(Enumerable.Repeat(unit, 4_000 / unit.Length));
        var exact = O200k.CountTokens(text);
        var pieces = (text.Length + TokenCounter.MaxRunLength - 1) / TokenCounter.MaxRunLength;

        var counted = TokenCounter.Shared.CountText(text, TokenEncoding.O200k);

        // A cut can split what would have been one token in two, on both sides of it.
        Assert.InRange(counted, exact, exact + (2 * pieces));
    }

    [Fact]
    public void A_run_is_cut_between_characters_never_inside_a_surrogate_pair()
    {
        // Odd-length prefixes move every cut; a split pair would count as two replacement characters.
        for (var prefix = 0; prefix < 3; prefix++)
        {
            var text = new string('a', prefix) + string.Concat(Enumerable.Repeat("😀", 200));
            var byPiece = TokenCounter.Shared.CountText(text, TokenEncoding.O200k);
            Assert.InRange(byPiece, O200k.CountTokens(text), O200k.CountTokens(text) + (2 * ((text.Length / TokenCounter.MaxRunLength) + 1)));
        }
    }
}
