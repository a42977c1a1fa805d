namespace AspireLlm.Tests.Shared.FakeProviders;

/// <summary>How replies are cut into stream chunks.</summary>
internal static class StreamPieces
{
    /// <summary>
    /// One piece per word, leading whitespace kept with the word that follows (" from"), as real token streams look,
    /// so concatenating the pieces gives back the text exactly.
    /// </summary>
    public static IReadOnlyList<string> Words(string text)
    {
        var pieces = new List<string>();
        var start = 0;
        var position = 0;
        while (position < text.Length)
        {
            while (position < text.Length && char.IsWhiteSpace(text[position]))
            {
                position++;
            }

            while (position < text.Length && !char.IsWhiteSpace(text[position]))
            {
                position++;
            }

            var piece = text[start..position];
            if (string.IsNullOrWhiteSpace(piece) && pieces.Count > 0)
            {
                // Trailing whitespace is not a word of its own: keep the word count honest.
                pieces[^1] += piece;
            }
            else
            {
                pieces.Add(piece);
            }

            start = position;
        }

        return pieces;
    }

    /// <summary>The number of words, the default completion token count of a text reply.</summary>
    public static int WordCount(string text) =>
        text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>Fixed-size pieces, used for tool-call arguments so clients must reassemble partial JSON as they do for real.</summary>
    public static IReadOnlyList<string> Fixed(string text, int size)
    {
        var pieces = new List<string>();
        for (var start = 0; start < text.Length; start += size)
        {
            pieces.Add(text.Substring(start, Math.Min(size, text.Length - start)));
        }

        return pieces;
    }
}
