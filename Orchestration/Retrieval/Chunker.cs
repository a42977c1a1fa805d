using System.Text;
using System.Text.RegularExpressions;
using AngleSharp.Html.Parser;

namespace AspireLlm.Orchestration.Retrieval;

/// <summary>One piece of a document: its place in it, its text (headings above it included) and its section.</summary>
public sealed record Chunk(int Position, string Text, string? Heading);

/// <summary>
/// Turns a document into text blocks that respect its structure, then into chunks. Markdown headings
/// (and HTML h1–h6) start a new chunk and are repeated at the top of every chunk of their section, so a
/// chunk says what it is about; paragraphs are kept whole where they fit; a chunk closed for size
/// carries the end of its predecessor (up to the overlap, cut at a word) so a sentence that spans the
/// cut is found from either side. Sizes are in characters.
/// </summary>
public static partial class Chunker
{
    public const string PlainText = "text/plain";
    public const string Markdown = "text/markdown";
    public const string Html = "text/html";

    public static readonly IReadOnlySet<string> ContentTypes = new HashSet<string>(StringComparer.Ordinal) { PlainText, Markdown, Html };

    /// <summary>The text of a document of <paramref name="contentType"/>: HTML becomes Markdown-like text (headings kept, markup and scripts gone).</summary>
    public static string ExtractText(string content, string contentType) => contentType switch
    {
        Html => HtmlToText(content),
        _ => content.Replace("\r\n", "\n", StringComparison.Ordinal),
    };

    public static IReadOnlyList<Chunk> Split(string text, string contentType, int size, int overlap)
    {
        var chunks = new List<Chunk>();
        var headings = new List<(int Level, string Text)>();
        var body = new StringBuilder();
        string? carried = null;

        foreach (var block in Blocks(text, structured: contentType != PlainText))
        {
            if (block.Level > 0)
            {
                Close(carry: false);
                headings.RemoveAll(heading => heading.Level >= block.Level);
                headings.Add((block.Level, block.Text));
                continue;
            }

            foreach (var piece in Pieces(block.Text, Math.Max(size - HeaderLength(), size / 2)))
            {
                if (body.Length > 0 && HeaderLength() + body.Length + 2 + piece.Length > size)
                {
                    Close(carry: true);
                }

                if (body.Length == 0 && carried is not null)
                {
                    body.Append(carried).Append(' ');
                    carried = null;
                }

                body.Append(body.Length > 0 && body[^1] != ' ' ? "\n\n" : "").Append(piece);
            }
        }

        Close(carry: false);
        return chunks;

        int HeaderLength() => headings.Sum(heading => heading.Text.Length + 1);

        void Close(bool carry)
        {
            var content = body.ToString().Trim();
            body.Clear();
            carried = null;
            if (content.Length == 0)
            {
                return;
            }

            var header = string.Join("\n", headings.Select(heading => heading.Text));
            chunks.Add(new Chunk(chunks.Count, header.Length > 0 ? header + "\n" + content : content, headings.Count > 0 ? headings[^1].Text : null));
            if (carry && overlap > 0)
            {
                carried = Tail(content, overlap);
            }
        }
    }

    private readonly record struct Block(int Level, string Text);

    private static IEnumerable<Block> Blocks(string text, bool structured)
    {
        var paragraph = new StringBuilder();
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd();
            if (structured && HeadingPattern().Match(line) is { Success: true } heading)
            {
                if (paragraph.Length > 0)
                {
                    yield return new Block(0, paragraph.ToString());
                    paragraph.Clear();
                }

                yield return new Block(heading.Groups[1].Length, heading.Groups[2].Value.Trim());
            }
            else if (line.Trim().Length == 0)
            {
                if (paragraph.Length > 0)
                {
                    yield return new Block(0, paragraph.ToString());
                    paragraph.Clear();
                }
            }
            else
            {
                paragraph.Append(paragraph.Length > 0 ? " " : "").Append(line.Trim());
            }
        }

        if (paragraph.Length > 0)
        {
            yield return new Block(0, paragraph.ToString());
        }
    }

    /// <summary>A paragraph as pieces of at most <paramref name="limit"/> characters: whole sentences where they fit, words otherwise.</summary>
    private static IEnumerable<string> Pieces(string paragraph, int limit)
    {
        if (paragraph.Length <= limit)
        {
            yield return paragraph;
            yield break;
        }

        var current = new StringBuilder();
        foreach (var sentence in SentencePattern().Split(paragraph).Where(s => s.Length > 0))
        {
            foreach (var part in sentence.Length <= limit ? [sentence] : Words(sentence, limit))
            {
                if (current.Length > 0 && current.Length + 1 + part.Length > limit)
                {
                    yield return current.ToString();
                    current.Clear();
                }

                current.Append(current.Length > 0 ? " " : "").Append(part);
            }
        }

        if (current.Length > 0)
        {
            yield return current.ToString();
        }
    }

    private static IEnumerable<string> Words(string sentence, int limit)
    {
        var current = new StringBuilder();
        foreach (var word in sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var piece = word.Length > limit ? word[..limit] : word;
            if (current.Length > 0 && current.Length + 1 + piece.Length > limit)
            {
                yield return current.ToString();
                current.Clear();
            }

            current.Append(current.Length > 0 ? " " : "").Append(piece);
        }

        if (current.Length > 0)
        {
            yield return current.ToString();
        }
    }

    private static string Tail(string text, int overlap)
    {
        if (text.Length <= overlap)
        {
            return text;
        }

        var start = text.IndexOf(' ', text.Length - overlap);
        return start < 0 ? text[^overlap..] : text[(start + 1)..];
    }

    private static string HtmlToText(string html)
    {
        var document = new HtmlParser().ParseDocument(html);
        foreach (var element in document.QuerySelectorAll("script, style, noscript, template, head"))
        {
            element.Remove();
        }

        var text = new StringBuilder();
        foreach (var element in document.Body?.QuerySelectorAll("h1, h2, h3, h4, h5, h6, p, li, pre, blockquote, td, th, dt, dd") ?? Enumerable.Empty<AngleSharp.Dom.IElement>())
        {
            // Only the innermost blocks: a list item holding paragraphs is read through its paragraphs.
            if (element.QuerySelector("p, li, pre, blockquote, td, th, dt, dd") is not null)
            {
                continue;
            }

            var content = WhitespacePattern().Replace(element.TextContent, " ").Trim();
            if (content.Length == 0)
            {
                continue;
            }

            text.Append(element.LocalName is ['h', var digit] && char.IsDigit(digit) ? new string('#', digit - '0') + " " : "")
                .Append(content).Append("\n\n");
        }

        return text.Length > 0 ? text.ToString() : WhitespacePattern().Replace(document.Body?.TextContent ?? "", " ").Trim();
    }

    [GeneratedRegex(@"^(#{1,6})\s+(.+)$")]
    private static partial Regex HeadingPattern();

    [GeneratedRegex(@"(?<=[.!?])\s+")]
    private static partial Regex SentencePattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhitespacePattern();
}
