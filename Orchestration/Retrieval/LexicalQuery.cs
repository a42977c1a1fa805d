namespace AspireLlm.Orchestration.Retrieval;

/// <summary>
/// A full-text search as two <c>tsquery</c>s over keyed lexeme hashes: <see cref="Match"/> picks the
/// chunks to rank, <see cref="Rank"/> orders them. Ranking reads each matched chunk, so the match is
/// kept to a budget of chunks: the query's rarest words (fewest chunks hold them) are matched, while its
/// common words only add to the rank of what the rare ones found. A chunk holding nothing but common
/// words ranks below one with a rare word anyway, which is why dropping them from the match barely
/// changes the best results (the same reasoning as BM25's inverse document frequency).
/// </summary>
public sealed record LexicalQuery(string Match, string Rank, string? Fallback = null)
{
    /// <summary>
    /// The query for <paramref name="terms"/> (each lexeme hash with how many of the collection's chunks
    /// hold it), matching at most about <paramref name="budget"/> chunks; null when none of the words is
    /// in the collection. Rare words are taken rarest first while their chunks fit the budget (the rarest
    /// always). When even the rarest exceeds it, every word must match (AND), and the search ranks only
    /// the first <paramref name="budget"/> matches; should that find too few (common words that seldom
    /// meet), the <see cref="Fallback"/> matches the rarest word alone, within the same budget.
    /// </summary>
    public static LexicalQuery? Plan(IEnumerable<(string Lexeme, long Chunks)> terms, long budget)
    {
        var known = terms.Where(term => term.Chunks > 0).DistinctBy(term => term.Lexeme)
            .OrderBy(term => term.Chunks).ThenBy(term => term.Lexeme, StringComparer.Ordinal).ToList();
        if (known.Count == 0)
        {
            return null;
        }

        var rank = Or(known);
        if (known[0].Chunks > budget)
        {
            return known.Count == 1
                ? new LexicalQuery(known[0].Lexeme, rank)
                : new LexicalQuery(string.Join(" & ", known.Select(term => term.Lexeme)), rank, Fallback: known[0].Lexeme);
        }

        var matched = new List<(string Lexeme, long Chunks)>();
        long chunks = 0;
        foreach (var term in known)
        {
            chunks += term.Chunks;
            if (chunks > budget)
            {
                break;
            }

            matched.Add(term);
        }

        return new LexicalQuery(Or(matched), rank);
    }

    private static string Or(IEnumerable<(string Lexeme, long Chunks)> terms) => string.Join(" | ", terms.Select(term => term.Lexeme));
}
