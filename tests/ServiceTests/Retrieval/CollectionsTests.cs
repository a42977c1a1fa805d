using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.Retrieval;

/// <summary>Collections end to end: upload, index, search, replace, delete, rebuild, isolation, and what rests in Postgres.</summary>
public sealed class CollectionsTests(LocalInfrastructure infrastructure) : RetrievalTest(infrastructure)
{
    [Fact]
    public async Task Replacing_a_document_swaps_its_chunks_at_once_and_deleting_it_removes_them_from_every_index()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-replace");
        var collection = await CreateCollectionAsync(client, "replace");
        var first = await UploadAsync(client, collection, "animals", "# Animals\n\nThe zebra has black and white stripes.\n\nThe zebra lives in Africa.");
        await RunIndexJobAsync(first);
        var zebra = await SearchAsync(client, collection, "zebra stripes", "lexical");
        Assert.Equal("animals", Assert.Single(zebra.Select(hit => hit.GetProperty("document_id").GetString()).Distinct()));
        var oldChunks = zebra.Select(hit => hit.GetProperty("chunk_id").GetString()).ToHashSet();

        // A new version is stored at once, but the old chunks answer until its job commits the new ones.
        var second = await UploadAsync(client, collection, "animals", "# Animals\n\nThe giraffe has a very long neck.");
        Assert.NotEmpty(await SearchAsync(client, collection, "zebra stripes", "lexical"));
        Assert.Empty(await SearchAsync(client, collection, "giraffe neck", "lexical"));

        // The first version's indexing, run again now (a late delivery), is superseded and changes nothing.
        var superseded = await Worker.Indexer(Vectors).IndexAsync(collection, "tenant-replace", "animals", first, (_, _) => Task.CompletedTask, CancellationToken.None);
        Assert.Equal("superseded", superseded.Status);
        Assert.NotEmpty(await SearchAsync(client, collection, "zebra stripes", "lexical"));

        await RunIndexJobAsync(second);
        Assert.Empty(await SearchAsync(client, collection, "zebra stripes", "lexical"));
        var giraffe = await SearchAsync(client, collection, "giraffe neck", "hybrid");
        Assert.Equal("animals", giraffe[0].GetProperty("document_id").GetString());
        Assert.DoesNotContain(giraffe, hit => oldChunks.Contains(hit.GetProperty("chunk_id").GetString()));
        var chunks = await Worker.CountAsync("SELECT count(*) FROM collection_chunks WHERE collection_id = $1", collection);
        Assert.Equal(chunks, await VectorCountAsync(collection));

        using (var deleted = await client.DeleteAsync($"/v1/collections/{collection}/documents/animals"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        Assert.Empty(await SearchAsync(client, collection, "giraffe neck", "hybrid"));
        Assert.Empty(await SearchAsync(client, collection, "giraffe neck", "vector"));
        Assert.Equal(0, await Worker.CountAsync("SELECT count(*) FROM collection_chunks WHERE collection_id = $1", collection));
        Assert.Equal(0, await VectorCountAsync(collection));
        using var again = await client.DeleteAsync($"/v1/collections/{collection}/documents/animals");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task Another_tenants_collection_is_not_found_by_any_route_nor_by_grounded_chat()
    {
        using var owner = await Api.CreateTenantClientAsync("tenant-owner");
        using var stranger = await Api.CreateTenantClientAsync("tenant-stranger");
        var collection = await CreateCollectionAsync(owner, "private notes");
        await RunIndexJobAsync(await UploadAsync(owner, collection, "secret", "The launch code word is pineapple."));

        using (var get = await stranger.GetAsync($"/v1/collections/{collection}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
            Assert.Equal("application/problem+json", get.Content.Headers.ContentType?.MediaType);
        }

        foreach (var (method, path, body) in new (HttpMethod, string, object?)[]
        {
            (HttpMethod.Get, $"/v1/collections/{collection}/documents", null),
            (HttpMethod.Post, $"/v1/collections/{collection}/search", new { query = "pineapple" }),
            (HttpMethod.Post, $"/v1/collections/{collection}/documents", new { id = "x", text = "planted" }),
            (HttpMethod.Post, $"/v1/collections/{collection}/rebuild", new { }),
            (HttpMethod.Delete, $"/v1/collections/{collection}/documents/secret", null),
            (HttpMethod.Delete, $"/v1/collections/{collection}", null),
        })
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            using var response = await stranger.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path}: {response.StatusCode}");
        }

        var list = await stranger.GetFromJsonAsync<JsonElement>("/v1/collections");
        Assert.DoesNotContain(list.GetProperty("data").EnumerateArray(), item => item.GetProperty("id").GetGuid() == collection);

        using var chat = await stranger.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "gpt-4o-mini",
            messages = new[] { new { role = "user", content = "What is the launch code word?" } },
            retrieval = new { collection = collection.ToString() },
        });
        Assert.Equal(HttpStatusCode.NotFound, chat.StatusCode);
        var error = (await chat.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("collection_not_found", error.GetProperty("code").GetString());
        Assert.Equal("retrieval.collection", error.GetProperty("param").GetString());

        // The owner still has everything.
        Assert.Single(await SearchAsync(owner, collection, "pineapple", "lexical"));
    }

    [Fact]
    public async Task Text_and_embeddings_rest_sealed_and_full_text_holds_hashes_not_words()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-sealed");
        var collection = await CreateCollectionAsync(client, "sealed");
        await RunIndexJobAsync(await UploadAsync(client, collection, "memo", "Quarterly revenue grew because of the Kilimanjaro partnership.", "Board memo"));

        await using var command = Worker.DataSource.CreateCommand(
            "SELECT k.text, k.embedding, k.lexemes::text, d.content, d.title FROM collection_chunks k JOIN collection_documents d ON d.collection_id = k.collection_id AND d.id = k.document_id WHERE k.collection_id = $1");
        command.Parameters.AddWithValue(collection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        foreach (var column in new[] { 0, 1, 3, 4 })
        {
            var bytes = (byte[])reader[column];
            Assert.True(Orchestration.Encryption.ContentCipher.IsSealed(bytes), $"column {column} is not sealed");
            Assert.DoesNotContain("Kilimanjaro", Encoding.UTF8.GetString(bytes), StringComparison.OrdinalIgnoreCase);
        }

        var lexemes = reader.GetString(2);
        Assert.DoesNotContain("kilimanjaro", lexemes, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("revenu", lexemes, StringComparison.OrdinalIgnoreCase);
        Assert.Matches("^('[0-9a-f]{20}':[0-9,]+ ?)+$", lexemes);

        // And still, full-text search finds the word, and the title and text read back whole.
        var hit = Assert.Single(await SearchAsync(client, collection, "Kilimanjaro", "lexical"));
        Assert.Equal("Board memo", hit.GetProperty("title").GetString());
        Assert.Contains("Kilimanjaro partnership", hit.GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_lost_vector_index_is_rebuilt_from_Postgres_by_a_job()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-rebuild");
        var collection = await CreateCollectionAsync(client, "rebuild");
        foreach (var document in Corpus.Documents.Take(6))
        {
            await RunIndexJobAsync(await UploadAsync(client, collection, document.Id, document.Text, document.Title));
        }

        var chunks = await Worker.CountAsync("SELECT count(*) FROM collection_chunks WHERE collection_id = $1", collection);
        Assert.Equal(chunks, await VectorCountAsync(collection));
        await Vectors.GetDatabase().KeyDeleteAsync($"aspirellm:vec:v1:{collection:N}:1");
        Assert.Empty(await SearchAsync(client, collection, "Can I get my money back on a yearly subscription?", "vector"));

        using var rebuild = await client.PostAsJsonAsync($"/v1/collections/{collection}/rebuild", new { });
        Assert.Equal(HttpStatusCode.Accepted, rebuild.StatusCode);
        var job = await RunIndexJobAsync((await rebuild.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetGuid());
        Assert.Equal(chunks, job.Result!.Value.GetProperty("vectors").GetInt64());

        Assert.Equal(2, await Worker.CountAsync("SELECT index_generation::bigint FROM collections WHERE id = $1", collection));
        Assert.Equal(chunks, await VectorCountAsync(collection));
        var found = await SearchAsync(client, collection, "Can I get my money back on a yearly subscription?", "vector");
        Assert.Equal("billing-refunds", found[0].GetProperty("document_id").GetString());
    }

    [Fact]
    public async Task Multipart_uploads_read_Markdown_and_HTML_by_structure()
    {
        using var client = await Api.CreateTenantClientAsync("tenant-multipart");
        var collection = await CreateCollectionAsync(client, "multipart", chunkSize: 200, overlap: 0);
        const string html = """
            <html><head><title>x</title><style>.a{color:red}</style><script>var secret = "do not index";</script></head>
            <body><h1>Shipping guide</h1><p>Parcels to Norway take <b>four</b> days.</p>
            <h2>Returns</h2><ul><li>Returns to the Oslo depot are free.</li></ul></body></html>
            """;
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(Encoding.UTF8.GetBytes(html)) { Headers = { ContentType = new MediaTypeHeaderValue("text/html") } }, "file", "guide.html" },
            { new StringContent("shipping-guide"), "id" },
        };
        using var response = await client.PostAsync($"/v1/collections/{collection}/documents", form);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await RunIndexJobAsync((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetGuid());

        var returns = Assert.Single(await SearchAsync(client, collection, "Oslo depot", "lexical"));
        // The chunk starts with its section's headings; markup, styles and scripts are gone.
        Assert.Equal("Shipping guide\nReturns\nReturns to the Oslo depot are free.", returns.GetProperty("text").GetString());
        Assert.Equal("guide", returns.GetProperty("title").GetString());
        Assert.Empty(await SearchAsync(client, collection, "secret index", "lexical"));

        var documents = await client.GetFromJsonAsync<JsonElement>($"/v1/collections/{collection}/documents");
        var document = Assert.Single(documents.GetProperty("data").EnumerateArray());
        Assert.Equal("text/html", document.GetProperty("content_type").GetString());
        Assert.Equal("indexed", document.GetProperty("status").GetString());
        Assert.Equal(2, document.GetProperty("chunks").GetInt32());
    }

    [Theory]
    [InlineData("/v1/collections", """{"name": "ok", "colour": "red"}""", "colour")]
    [InlineData("/v1/collections", """{"name": ""}""", "name")]
    [InlineData("/v1/collections", """{"name": "x", "embedding_model": "nope"}""", "embedding_model")]
    [InlineData("/v1/collections", """{"name": "x", "chunk_size": 50}""", "chunk_size")]
    [InlineData("/v1/collections", """{"name": "x", "chunk_size": 200, "chunk_overlap": 150}""", "chunk_overlap")]
    [InlineData("/documents", """{"text": "hi", "content_type": "application/pdf"}""", "content_type")]
    [InlineData("/documents", """{"text": "   "}""", "text")]
    [InlineData("/documents", """{"id": "has spaces", "text": "hi"}""", "id")]
    [InlineData("/search", """{"query": "x", "mode": "fuzzy"}""", "mode")]
    [InlineData("/search", """{"query": "x", "top_k": 0}""", "top_k")]
    [InlineData("/search", """{}""", "query")]
    public async Task Bad_requests_get_ProblemDetails_naming_the_field(string path, string body, string field)
    {
        using var client = await Api.CreateTenantClientAsync("tenant-validation");
        if (!path.StartsWith("/v1/", StringComparison.Ordinal))
        {
            var list = await client.GetFromJsonAsync<JsonElement>("/v1/collections");
            var existing = list.GetProperty("data").EnumerateArray().Select(item => item.GetProperty("id").GetGuid()).FirstOrDefault();
            path = $"/v1/collections/{(existing == Guid.Empty ? await CreateCollectionAsync(client, "validation") : existing)}{path}";
        }

        using var response = await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(problem.GetProperty("errors").EnumerateObject(), error => error.Name.Contains(field, StringComparison.OrdinalIgnoreCase));
    }
}
