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

    [Fact]
    public void Counting_stops_soon_after_the_limit_and_below_it_counts_as_without_one()
    {
        // About 1 MiB of prose: some 230 000 tokens.
        var text = string.Join(' ', Enumerable.Repeat("The quick brown fox jumps over the lazy dog. It was not amused; nobody asked it.", 13_000));
        var full = TokenCounter.Shared.CountText(text, TokenEncoding.O200k);

        var limited = TokenCounter.Shared.CountText(text, TokenEncoding.O200k, limit: 10_000);

        // Past the limit by at most one block (about 8 000 characters, some 2 000 tokens of this text).
        Assert.InRange(limited, 10_001, 10_000 + TokenCounter.BlockLength);
        Assert.True(full > 20 * limited, $"full {full}, limited {limited}");

        // Under its limit, a text counted in blocks (cut at a space after a word) counts as whole text does.
        var shorter = text[..200_000];
        Assert.Equal(O200k.CountTokens(shorter), TokenCounter.Shared.CountText(shorter, TokenEncoding.O200k, limit: 1_000_000));
    }

    [Theory]
    [InlineData("if (ready) {\n    start();\n}\n\nDone.\n\n- item one;\n- item two.\n\n")]
    [InlineData("Dear team,\r\n\r\nThe figures: 12 345, 6.7%; see “notes”.  Thanks!\r\n")]
    public void Blocks_cut_only_where_the_encoding_splits_too(string sample)
    {
        var text = string.Concat(Enumerable.Repeat(sample, 4_000));

        Assert.Equal(O200k.CountTokens(text), TokenCounter.Shared.CountText(text, TokenEncoding.O200k, limit: 10_000_000));
    }

    [Fact]
    public void Tool_results_and_call_arguments_are_counted_up_to_the_limit_too()
    {
        var huge = new string('x', 500_000);
        List<Microsoft.Extensions.AI.ChatMessage> messages =
        [
            new(Microsoft.Extensions.AI.ChatRole.Assistant, [new Microsoft.Extensions.AI.FunctionCallContent("c1", "lookup", new Dictionary<string, object?> { ["q"] = huge })]),
            new(Microsoft.Extensions.AI.ChatRole.Tool, [new Microsoft.Extensions.AI.FunctionResultContent("c1", huge)]),
        ];

        Assert.InRange(TokenCounter.Shared.CountRequest(messages, null, TokenEncoding.O200k, limit: 5_000), 5_001, 5_000 + TokenCounter.MaxRunLength);
        Assert.InRange(TokenCounter.Shared.CountRequest(messages[1..], null, TokenEncoding.O200k, limit: 5_000), 5_001, 5_000 + TokenCounter.MaxRunLength);
    }

    [Fact]
    public void A_request_is_counted_up_to_the_limit_across_its_messages()
    {
        var huge = new string('x', 500_000);
        List<Microsoft.Extensions.AI.ChatMessage> messages =
        [
            new(Microsoft.Extensions.AI.ChatRole.System, "You are concise."),
            new(Microsoft.Extensions.AI.ChatRole.User, huge),
            new(Microsoft.Extensions.AI.ChatRole.User, huge),
        ];

        var limited = TokenCounter.Shared.CountRequest(messages, null, TokenEncoding.O200k, limit: 5_000);

        Assert.InRange(limited, 5_001, 5_000 + TokenCounter.MaxRunLength);
    }
}
