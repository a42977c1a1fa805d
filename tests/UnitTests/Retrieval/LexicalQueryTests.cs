using AspireLlm.Orchestration.Retrieval;

namespace AspireLlm.UnitTests.Retrieval;

public sealed class LexicalQueryTests
{
    [Fact]
    public void Rare_words_are_matched_and_every_known_word_ranks()
    {
        var query = LexicalQuery.Plan([("common", 900), ("rare", 40), ("rarer", 3)], budget: 500)!;

        Assert.Equal("rarer | rare", query.Match);
        Assert.Equal("rarer | rare | common", query.Rank);
        Assert.Null(query.Fallback);
    }

    [Fact]
    public void Words_are_matched_rarest_first_while_their_chunks_fit_the_budget()
    {
        var query = LexicalQuery.Plan([("a", 200), ("b", 250), ("c", 60), ("d", 251)], budget: 500)!;

        // c (60) + a (200) = 260; + b (250) = 510 is over.
        Assert.Equal("c | a", query.Match);
        Assert.Equal("c | a | b | d", query.Rank);
    }

    [Fact]
    public void When_every_word_is_common_all_of_them_must_match()
    {
        var query = LexicalQuery.Plan([("the", 9000), ("data", 700), ("data", 700)], budget: 500)!;

        Assert.Equal("data & the", query.Match);
        Assert.Equal("data | the", query.Rank);
        Assert.Equal("data", query.Fallback);
        Assert.Null(LexicalQuery.Plan([("the", 9000)], budget: 500)!.Fallback);
    }

    [Fact]
    public void Words_the_collection_does_not_hold_are_left_out_and_none_known_means_no_search()
    {
        Assert.Equal("known", LexicalQuery.Plan([("unknown", 0), ("known", 5)], budget: 500)!.Rank);
        Assert.Null(LexicalQuery.Plan([("unknown", 0)], budget: 500));
        Assert.Null(LexicalQuery.Plan([], budget: 500));
    }
}
