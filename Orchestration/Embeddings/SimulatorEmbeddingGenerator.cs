using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;

namespace AspireLlm.Orchestration.Embeddings;

/// <summary>
/// Embeddings without a provider: a unit vector that is a pure function of the model and the text
/// (SHA-256 seeded), so equal texts embed equally and tests can assert exact values.
/// </summary>
public sealed class SimulatorEmbeddingGenerator(string modelId, int dimensions = 1536) : IEmbeddingGenerator<string, Embedding<float>>
{
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var size = options?.Dimensions ?? dimensions;
        var embeddings = new GeneratedEmbeddings<Embedding<float>>(values.Select(value => new Embedding<float>(Vector(value, size)) { ModelId = modelId }));
        embeddings.Usage = new UsageDetails
        {
            InputTokenCount = values.Sum(value => Math.Max(1, value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length)),
        };
        embeddings.Usage.TotalTokenCount = embeddings.Usage.InputTokenCount;
        return Task.FromResult(embeddings);
    }

    private float[] Vector(string text, int size)
    {
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes(modelId + "\u001f" + text));
        var state = BitConverter.ToUInt64(seed, 0) | 1;
        var vector = new float[size];
        double norm = 0;
        for (var i = 0; i < size; i++)
        {
            // xorshift64: cheap, and deterministic across platforms.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            vector[i] = (float)((state >> 11) * (1.0 / (1UL << 53)) * 2 - 1);
            norm += vector[i] * vector[i];
        }

        var scale = (float)(1 / Math.Sqrt(norm));
        for (var i = 0; i < size; i++)
        {
            vector[i] *= scale;
        }

        return vector;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
