using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Caching;
using AspireLlm.Orchestration.Embeddings;
using AspireLlm.Orchestration.Retrieval;
using AspireLlm.Orchestration.Telemetry;
using AspireLlm.Orchestration.Vectors;
using AspireLlm.Tests.Shared;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

// The retrieval benchmark: local embedding throughput, indexing throughput, search latency and vector
// recall at 10 000 and 100 000 chunks, and the semantic cache's lookup overhead. Real Postgres, Redis
// and Garnet (vector sets), started as the tests start them. Usage:
//   bench/run-retrieval-bench.sh [--sizes 10000,100000] [--queries 200] [--exploration 200]
//   bench/run-retrieval-bench.sh --only memory: the local embedding model's memory and CPU (LocalEmbeddingMemory.cs)
var sizes = Arg("--sizes", "10000,100000").Split(',').Select(int.Parse).ToArray();
var queries = int.Parse(Arg("--queries", "200"), CultureInfo.InvariantCulture);
var exploration = int.Parse(Arg("--exploration", "200"), CultureInfo.InvariantCulture);
var only = Arg("--only", "all"); // all; search: only search at scale; semantic: only the semantic cache's lookup; memory
if (only == "memory")
{
    await AspireLlm.RetrievalBench.LocalEmbeddingMemory.RunAsync();
    return;
}

Console.WriteLine($"Load average at start: {File.ReadAllText("/proc/loadavg").Trim()} ({Environment.ProcessorCount} cores, Server GC: {System.Runtime.GCSettings.IsServerGC})");

await using var infrastructure = new LocalInfrastructure();
await infrastructure.StartAsync();
var cipher = TestEncryption.Cipher;
await using var dataSource = NpgsqlDataSource.Create(infrastructure.DatabaseConnectionString);
await using var redis = await ConnectionMultiplexer.ConnectAsync(infrastructure.RedisConnectionString);
await using var vectorRedis = await ConnectionMultiplexer.ConnectAsync(infrastructure.StartVectorStore());
var store = new CollectionStore(dataSource, cipher);
var hasher = new LexicalHasher(cipher);
var vectors = new VectorSets(vectorRedis);
var embeddings = new EmbeddingCatalog(Options.Create(OrchestrationOptions.Simulated()), new ConfigurationBuilder().Build(), TimeProvider.System,
    new OrchestrationTelemetry(), NullLoggerFactory.Instance);
var indexer = new DocumentIndexer(store, embeddings, hasher, vectors, new EmbeddingCache(redis, cipher), TimeProvider.System);
var search = new RetrievalSearch(store, embeddings, hasher, vectors, new RetrievalOptions { VectorSearchExploration = exploration });
var rows = new List<(string What, string Value)>();

// Searches made before the measured ones, so that the first few (connections opening, code compiling) are not in the figures.
const int WarmUpQueries = 20;
// The semantic cache's paraphrases are looked up this many times each (after a warm-up), for a steadier p99.
const int SemanticPasses = 4;
var corpus = Corpus();
if (only == "all")
{
    await MeasureEmbeddingAndIndexingAsync();
}

if (only is "all" or "search")
{
    await MeasureSearchAsync();
}

if (only is "all" or "semantic")
{
    await MeasureSemanticCacheAsync();
}

Print();
return;

async Task MeasureEmbeddingAndIndexingAsync()
{
    // 1. Local embedding throughput: the corpus in chunks of about 400 characters, batches of 16.
    var chunkTexts = corpus.SelectMany(document => Chunker.Split(document.Text, Chunker.Markdown, 400, 60)).Select(chunk => chunk.Text).ToList();
    using (var generator = new LocalMiniLmEmbeddingGenerator())
    {
        await generator.GenerateAsync(chunkTexts.Take(16).Select(text => text + " warm-up"));
        var clock = Stopwatch.StartNew();
        await generator.GenerateAsync(chunkTexts.Select((text, i) => $"{i} {text}"));
        rows.Add(("local embedding (all-MiniLM-L6-v2, ONNX Runtime)", $"{chunkTexts.Count / clock.Elapsed.TotalSeconds:0.0} chunks/s ({chunkTexts.Count} chunks of ~{chunkTexts.Average(text => text.Length):0} chars, {Environment.ProcessorCount} cores)"));
        var single = new List<double>();
        foreach (var question in Enumerable.Range(0, 50).Select(i => $"How do I reset my password, question {i}?"))
        {
            var one = Stopwatch.StartNew();
            await generator.GenerateAsync([question]);
            single.Add(one.Elapsed.TotalMilliseconds);
        }

        rows.Add(("embedding one short question", $"p50 {Percentile(single, 50):0.0} ms, p99 {Percentile(single, 99):0.0} ms"));
    }

    // 2. Indexing throughput through DocumentIndexer: chunk, embed, hash lexemes, commit, vector index. Then again, unchanged.
    {
        var collection = await NewCollectionAsync("corpus", 400, 60);
        var (first, firstChunks) = await IndexCorpusAsync(collection);
        var (second, secondChunks) = await IndexCorpusAsync(collection);
        rows.Add(("indexing new text (end to end)", $"{firstChunks / first.TotalSeconds:0.0} chunks/s ({firstChunks} chunks)"));
        rows.Add(("re-indexing unchanged text", $"{secondChunks / second.TotalSeconds:0.0} chunks/s (embeddings reused by content hash)"));
    }

}

async Task MeasureSearchAsync()
{
    // 3. Search at scale: synthetic clustered unit vectors (the shape of real embeddings: topics, spread around them).
    foreach (var size in sizes)
    {
        var random = new Random(size);
        var centers = Enumerable.Range(0, Math.Max(10, size / 50)).Select(_ => Normalise(Gaussian(random, 1.0))).ToArray();
        var vocabulary = Enumerable.Range(0, 5000).Select(i => $"term{i}").ToArray();
        var collection = await NewCollectionAsync($"synthetic-{size}", 800, 0);
        var data = new float[size][];
        var topic = new int[size];
        var load = Stopwatch.StartNew();
        for (var start = 0; start < size; start += 1000)
        {
            var count = Math.Min(1000, size - start);
            var documentId = $"doc-{start / 1000}";
            var jobId = Guid.NewGuid();
            await store.PutDocumentAsync(collection.Id, documentId, null, Chunker.PlainText, "synthetic", jobId, DateTimeOffset.UtcNow, CancellationToken.None);
            var texts = new string[count];
            for (var i = 0; i < count; i++)
            {
                topic[start + i] = random.Next(centers.Length);
                data[start + i] = Normalise(Add(centers[topic[start + i]], Gaussian(random, 0.05)));
                texts[i] = $"topic{topic[start + i]} subject{topic[start + i] % 97} " + string.Join(' ', Enumerable.Range(0, 30).Select(_ => vocabulary[(int)(Math.Pow(random.NextDouble(), 3) * vocabulary.Length)]));
            }

            var lexemes = await store.LexemesAsync(texts, CancellationToken.None);
            var chunks = Enumerable.Range(0, count).Select(i => new NewChunk(
                Guid.CreateVersion7(), i, hasher.ContentHash(collection.LexemeKeyId, collection.TenantId, "synthetic", texts[i]), texts[i], data[start + i],
                hasher.TsVector(collection.LexemeKeyId, lexemes[i]))).ToList();
            await store.ReplaceChunksAsync(collection.Id, documentId, 1, chunks, DateTimeOffset.UtcNow, CancellationToken.None);
            await vectors.AddAsync(collection.VectorKey, [.. chunks.Select(chunk => (chunk.Id.ToString("N"), chunk.Embedding))]);
        }

        rows.Add(($"{size:N0} chunks: load (Postgres + vector index)", $"{size / load.Elapsed.TotalSeconds:0} chunks/s"));

        // Autovacuum would analyse the table within about a minute of such a load; without statistics the
        // planner takes the collection's b-tree index and reads every chunk of it (8 ms at 10 000 chunks).
        await using (var analyze = dataSource.CreateCommand("ANALYZE collection_chunks"))
        {
            await analyze.ExecuteNonQueryAsync();
        }

        collection = (await store.GetAsync(collection.Id, collection.TenantId, CancellationToken.None))!;
        var ids = await AllIdsAsync(collection.Id, size);
        var queryTopics = Enumerable.Range(0, queries).Select(_ => random.Next(centers.Length)).ToArray();
        var queryVectors = queryTopics.Select(t => Normalise(Add(centers[t], Gaussian(random, 0.05)))).ToArray();

        var vsim = new List<double>();
        double found = 0;
        for (var q = 0; q < queries; q++)
        {
            var clock = Stopwatch.StartNew();
            var matches = await vectors.SearchAsync(collection.VectorKey, queryVectors[q], 10, exploration);
            vsim.Add(clock.Elapsed.TotalMilliseconds);
            var exact = Enumerable.Range(0, size).Select(i => (i, TensorPrimitives.Dot(data[i], queryVectors[q]))).OrderByDescending(pair => pair.Item2).Take(10)
                .Select(pair => ids[pair.i]).ToHashSet();
            found += matches.Count(match => exact.Contains(match.Element));
        }

        rows.Add(($"{size:N0} chunks: vector index search (top 10, EF {exploration})", $"p50 {Percentile(vsim, 50):0.0} ms, p99 {Percentile(vsim, 99):0.0} ms, recall@10 vs exact {found / (10.0 * queries):0.000}"));
        foreach (var mode in new[] { SearchMode.Hybrid, SearchMode.Lexical })
        {
            var latencies = new List<double>();
            for (var q = -WarmUpQueries; q < queries; q++)
            {
                var clock = Stopwatch.StartNew();
                // A topic's own word (about 50 chunks hold it) and one of the 50 commonest words (up to 13% of chunks).
                var i = (q + queries) % queries;
                await search.SearchAsync(collection, $"topic{queryTopics[i]} {vocabulary[random.Next(50)]}", 5, mode, CancellationToken.None, queryVectors[i]);
                if (q >= 0)
                {
                    latencies.Add(clock.Elapsed.TotalMilliseconds);
                }
            }

            rows.Add(($"{size:N0} chunks: {mode.ToString().ToLowerInvariant()} search, top 5 (query embedding excluded)", $"p50 {Percentile(latencies, 50):0.0} ms, p99 {Percentile(latencies, 99):0.0} ms"));
        }

        await vectors.DeleteAsync(collection.VectorKey);
    }
}

// 4. Semantic cache: a scope holding 1 000 answered questions (the corpus's section titles as FAQ questions,
// the rest distinct fillers); the lookup of a paraphrase with its embedding already made (the embedding's
// own cost is the row "embedding one short question"), and the whole lookup with it.
async Task MeasureSemanticCacheAsync()
{
    var cache = new SemanticCache(vectors, embeddings, cipher, new SemanticCacheOptions(), NullLogger<SemanticCache>.Instance);
    var messages = new List<Microsoft.Extensions.AI.ChatMessage> { new(Microsoft.Extensions.AI.ChatRole.User, "placeholder") };
    var options = new Microsoft.Extensions.AI.ChatOptions();
    var answer = new Microsoft.Extensions.AI.ChatResponse(new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.Assistant, "An answer.")) { FinishReason = Microsoft.Extensions.AI.ChatFinishReason.Stop };
    var faq = corpus.SelectMany(document => document.Text.Split('\n')).Where(line => line.StartsWith("## ", StringComparison.Ordinal)).Select(line => $"How does {line[3..].ToLowerInvariant()} work?").Distinct().ToList();
    var (stored, _, _) = await embeddings.GenerateAsync("all-minilm-l6-v2", faq, null, CancellationToken.None);
    var scope = SemanticCache.ScopeOf("bench", "faq", messages, options);
    var random = new Random(7);
    for (var i = 0; i < 1000; i++)
    {
        var (question, vector) = i < faq.Count
            ? (faq[i], stored[i].Vector.ToArray())
            : ($"Filler question {i}?", Normalise(Gaussian(random, 1.0)));
        await cache.StoreAsync(new SemanticCache.Probe(scope, question, vector), answer);
    }

    var paraphrases = faq.Select(question => question.Replace("How does", "How do", StringComparison.Ordinal)).ToList();
    var (vectorsOfParaphrases, _, _) = await embeddings.GenerateAsync("all-minilm-l6-v2", paraphrases, null, CancellationToken.None);
    var lookups = new List<double>();
    var whole = new List<double>();
    var hits = 0;
    for (var pass = -1; pass < SemanticPasses; pass++)
    for (var i = 0; i < paraphrases.Count; i++)
    {
        if (pass < 0 && i >= WarmUpQueries)
        {
            break;
        }

        List<Microsoft.Extensions.AI.ChatMessage> asked = [new(Microsoft.Extensions.AI.ChatRole.User, paraphrases[i])];
        var clock = Stopwatch.StartNew();
        var (hit, _) = await cache.LookupAsync("bench", "faq", asked, options, paraphrases[i], CancellationToken.None, vectorsOfParaphrases[i].Vector.ToArray());
        var lookup = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        await cache.LookupAsync("bench", "faq", asked, options, paraphrases[i], CancellationToken.None);
        if (pass >= 0)
        {
            lookups.Add(lookup);
            whole.Add(clock.Elapsed.TotalMilliseconds);
            hits += pass == 0 && hit is not null ? 1 : 0;
        }
    }

    rows.Add(("semantic cache lookup, embedding excluded (1 000 entries in scope)", $"p50 {Percentile(lookups, 50):0.00} ms, p99 {Percentile(lookups, 99):0.00} ms ({hits}/{paraphrases.Count} paraphrases hit; {lookups.Count} lookups)"));
    rows.Add(("semantic cache lookup with the question's embedding", $"p50 {Percentile(whole, 50):0.00} ms, p99 {Percentile(whole, 99):0.00} ms"));
}

void Print()
{
    Console.WriteLine();
    Console.WriteLine("| measurement | result |");
    Console.WriteLine("|---|---|");
    foreach (var (what, value) in rows)
    {
        Console.WriteLine($"| {what} | {value} |");
    }

    Console.WriteLine();
    Console.WriteLine($"Load average at end: {File.ReadAllText("/proc/loadavg").Trim()}. Targets: search p99 <= 20 ms at 100 000 chunks, recall@10 >= 0.95, semantic lookup <= 2 ms plus the embedding.");
}

async Task<CollectionRecord> NewCollectionAsync(string name, int chunkSize, int overlap)
{
    var collection = new CollectionRecord(Guid.CreateVersion7(), "bench", name, "all-minilm-l6-v2", LocalMiniLmEmbeddingGenerator.ModelName,
        LocalMiniLmEmbeddingGenerator.Dimensions, chunkSize, overlap, hasher.ActiveKeyId, 1, DateTimeOffset.UtcNow);
    return (await store.CreateAsync(collection, CancellationToken.None))!;
}

async Task<(TimeSpan Elapsed, int Chunks)> IndexCorpusAsync(CollectionRecord collection)
{
    var clock = Stopwatch.StartNew();
    var chunks = 0;
    foreach (var document in corpus)
    {
        var jobId = Guid.NewGuid();
        await store.PutDocumentAsync(collection.Id, document.Id, document.Title, Chunker.Markdown, document.Text, jobId, DateTimeOffset.UtcNow, CancellationToken.None);
        chunks += (await indexer.IndexAsync(collection.Id, collection.TenantId, document.Id, jobId, (_, _) => Task.CompletedTask, CancellationToken.None)).Chunks;
    }

    return (clock.Elapsed, chunks);
}

async Task<string[]> AllIdsAsync(Guid collection, int size)
{
    // Chunk ids in the order the vectors were made: documents by number, chunks by position.
    var ids = new string[size];
    await using var command = dataSource.CreateCommand(
        "SELECT id, substring(document_id from 5)::int * 1000 + position FROM collection_chunks WHERE collection_id = $1");
    command.Parameters.AddWithValue(collection);
    await using var reader = await command.ExecuteReaderAsync();
    while (await reader.ReadAsync())
    {
        ids[reader.GetInt32(1)] = reader.GetGuid(0).ToString("N");
    }

    return ids;
}

static double Percentile(List<double> values, double percent)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}

static float[] Gaussian(Random random, double sigma) =>
    [.. Enumerable.Range(0, LocalMiniLmEmbeddingGenerator.Dimensions).Select(_ =>
        (float)(sigma * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))];

static float[] Add(float[] a, float[] b) => [.. a.Zip(b, (x, y) => x + y)];

static float[] Normalise(float[] vector)
{
    var norm = TensorPrimitives.Norm(vector);
    TensorPrimitives.Divide(vector, norm, vector);
    return vector;
}

static List<(string Id, string Title, string Text)> Corpus()
{
    var directory = new DirectoryInfo(AppContext.BaseDirectory);
    while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "AspireLlm.sln")))
    {
        directory = directory.Parent;
    }

    var documents = new List<(string, string, string)>();
    var lines = File.ReadAllLines(Path.Combine(directory!.FullName, "tests", "Data", "retrieval", "corpus.md"));
    string? id = null, title = null;
    var text = new List<string>();
    foreach (var line in lines.Append("<!-- doc: end | end -->"))
    {
        if (line.StartsWith("<!-- doc: ", StringComparison.Ordinal))
        {
            if (id is not null)
            {
                documents.Add((id, title!, string.Join('\n', text)));
            }

            var parts = line["<!-- doc: ".Length..^" -->".Length].Split(" | ");
            (id, title) = (parts[0], parts[1]);
            text.Clear();
        }
        else if (id is not null)
        {
            text.Add(line);
        }
    }

    return documents;
}

string Arg(string name, string fallback) => args.SkipWhile(arg => arg != name).Skip(1).FirstOrDefault() ?? fallback;
