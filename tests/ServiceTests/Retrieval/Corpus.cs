using System.Text.RegularExpressions;

namespace AspireLlm.ServiceTests.Retrieval;

/// <summary>The committed retrieval corpus (<c>tests/Data/retrieval/corpus.md</c>) and its labelled queries.</summary>
public static partial class Corpus
{
    public sealed record Document(string Id, string Title, string Text);

    public sealed record Query(string Text, string DocumentId);

    public static IReadOnlyList<Document> Documents { get; } = Load();

    public static IReadOnlyList<Query> Queries { get; } =
        [.. File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Data", "retrieval", "queries.tsv"))
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('\t'))
            .Select(fields => new Query(fields[0], fields[1]))];

    private static List<Document> Load()
    {
        var documents = new List<Document>();
        string? id = null, title = null;
        var text = new List<string>();
        foreach (var line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Data", "retrieval", "corpus.md")))
        {
            if (DocumentLine().Match(line) is { Success: true } start)
            {
                Flush();
                (id, title) = (start.Groups[1].Value, start.Groups[2].Value);
            }
            else if (id is not null)
            {
                text.Add(line);
            }
        }

        Flush();
        return documents;

        void Flush()
        {
            if (id is not null)
            {
                documents.Add(new Document(id, title!, string.Join('\n', text).Trim()));
            }

            text.Clear();
        }
    }

    [GeneratedRegex(@"^<!-- doc: (\S+) \| (.+) -->$")]
    private static partial Regex DocumentLine();
}
