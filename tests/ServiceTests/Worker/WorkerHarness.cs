extern alias worker;
using System.Text.Json;
using AspireLlm.Orchestration;
using AspireLlm.Orchestration.Admission;
using AspireLlm.Orchestration.Encryption;
using AspireLlm.Orchestration.Hashing;
using AspireLlm.Orchestration.Jobs;
using AspireLlm.Orchestration.Jobs.Events;
using AspireLlm.Orchestration.Routing;
using AspireLlm.Orchestration.Simulator;
using AspireLlm.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;
using BatchJob = worker::AspireLlm.Worker.Jobs.BatchJob;
using ChatCompletionJob = worker::AspireLlm.Worker.Jobs.ChatCompletionJob;
using IndexJob = worker::AspireLlm.Worker.Jobs.IndexJob;
using JobExecution = worker::AspireLlm.Worker.Jobs.JobExecution;
using JobReporter = worker::AspireLlm.Worker.Jobs.JobReporter;
using RunningJobs = worker::AspireLlm.Worker.Jobs.RunningJobs;
using WorkerOptions = worker::AspireLlm.Worker.Jobs.WorkerOptions;

namespace AspireLlm.ServiceTests.Worker;

/// <summary>The Worker's job classes wired as the Worker wires them, over the test Postgres and Redis.</summary>
public sealed class WorkerHarness : IAsyncDisposable
{
    private WorkerHarness(NpgsqlDataSource dataSource, ConnectionMultiplexer redis, ContentCipher cipher)
    {
        DataSource = dataSource;
        Redis = redis;
        Store = new JobStore(dataSource, cipher);
        Cipher = cipher;
        Events = new JobEventLog(redis, cipher);
    }

    public NpgsqlDataSource DataSource { get; }

    public ContentCipher Cipher { get; }

    public ConnectionMultiplexer Redis { get; }

    public JobStore Store { get; }

    public JobEventLog Events { get; }

    internal RunningJobs Running { get; } = new();

    /// <param name="cipher">The Worker's keyring; the tests' shared key unless a test rotates keys.</param>
    public static async Task<WorkerHarness> CreateAsync(LocalInfrastructure infrastructure, ContentCipher? cipher = null) =>
        new(NpgsqlDataSource.Create(infrastructure.DatabaseConnectionString), await ConnectionMultiplexer.ConnectAsync(infrastructure.RedisConnectionString),
            cipher ?? TestEncryption.Cipher);

    internal ChatCompletionJob ChatJob(SimulatorOptions? simulator = null, int timeoutSeconds = 60, bool enforceLimits = false) =>
        new(Execution(), Reporter(), Catalog(simulator, enforceLimits ? Admission() : null), new AdmissionSubjects(DataSource, TimeProvider.System),
            Options.Create(new WorkerOptions { ChatTimeoutSeconds = timeoutSeconds }), TimeProvider.System, Grounding());

    /// <summary>The Redis rate limits and budgets the Worker enforces on jobs.</summary>
    private RedisModelAdmission Admission() => new(
        Redis, Options.Create(new AdmissionOptions()), TimeProvider.System, NullLogger<RedisModelAdmission>.Instance,
        new TestMeterFactory());

    internal BatchJob BatchJob(SimulatorOptions? simulator = null) =>
        new(Execution(), Reporter(), Store, Catalog(simulator), new AdmissionSubjects(DataSource, TimeProvider.System), Options.Create(new WorkerOptions()), TimeProvider.System, Grounding());

    /// <summary>The index job as the Worker wires it, writing the vector index at <paramref name="vectors"/> (none: Postgres only).</summary>
    internal IndexJob IndexJob(ConnectionMultiplexer? vectors) => new(
        Execution(), Reporter(), Indexer(vectors), new Orchestration.Retrieval.CollectionStore(DataSource, Cipher),
        Options.Create(new WorkerOptions()), TimeProvider.System);

    internal Orchestration.Retrieval.DocumentIndexer Indexer(ConnectionMultiplexer? vectors) => new(
        new Orchestration.Retrieval.CollectionStore(DataSource, Cipher), Embeddings(), new Orchestration.Retrieval.LexicalHasher(Cipher),
        vectors is null ? null : new Orchestration.Vectors.VectorSets(vectors), new Orchestration.Embeddings.EmbeddingCache(Redis, Cipher), TimeProvider.System);

    private static readonly Lazy<Orchestration.Embeddings.EmbeddingCatalog> SharedEmbeddings = new(() => new(
        Options.Create(OrchestrationOptions.Simulated()), new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build(), TimeProvider.System,
        new Orchestration.Telemetry.OrchestrationTelemetry(), NullLoggerFactory.Instance));

    internal static Orchestration.Embeddings.EmbeddingCatalog Embeddings() => SharedEmbeddings.Value;

    /// <summary>Grounding over the test database (full text only: these tests have no vector index).</summary>
    internal Orchestration.Retrieval.Grounding Grounding()
    {
        var collections = new Orchestration.Retrieval.CollectionStore(DataSource, Cipher);
        return new(collections, new Orchestration.Retrieval.RetrievalSearch(
            collections, Embeddings(), new Orchestration.Retrieval.LexicalHasher(Cipher), null, new Orchestration.Retrieval.RetrievalOptions()));
    }

    /// <summary>Creates a job row (and an API key for it) as the Api would.</summary>
    public async Task<Guid> CreateJobAsync(object input, string kind = JobKinds.ChatCompletion, string? webhookUrl = null,
        DateTimeOffset? createdAt = null, string? keyId = null)
    {
        var apiKeyId = keyId is null ? await CreateKeyAsync() : Guid.Parse(keyId);
        var json = JsonSerializer.SerializeToElement(input);
        var (job, _) = await Store.CreateAsync(
            new NewJob(Guid.CreateVersion7(), "tenant-w", apiKeyId, kind, json, null, CanonicalJson.Hash(json),
                createdAt ?? DateTimeOffset.UtcNow, webhookUrl),
            int.MaxValue, CancellationToken.None);
        return job!.Id;
    }

    public static object ChatInput(string content) => new
    {
        model = "gpt-4o-mini",
        messages = new[] { new { role = "user", content } },
        temperature = 0,
    };

    /// <summary>
    /// The job's current dispatch id, as the Worker's dispatcher would have assigned it (tests run jobs
    /// directly instead of through Hangfire, so they assign it here).
    /// </summary>
    public async Task<Guid> DispatchIdAsync(Guid jobId)
    {
        await using var command = DataSource.CreateCommand("""
            UPDATE jobs SET dispatch_id = COALESCE(dispatch_id, gen_random_uuid()), hangfire_job_id = COALESCE(hangfire_job_id, 'test')
            WHERE id = $1 RETURNING dispatch_id
            """);
        command.Parameters.AddWithValue(jobId);
        return (Guid)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>An API key of tenant-w (with no webhook secret yet: the first use makes one).</summary>
    public async Task<Guid> CreateKeyAsync()
    {
        var keyId = Guid.NewGuid();
        await using var command = DataSource.CreateCommand("""
            INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, created_at) VALUES ($1, 'tenant-w', 'worker test', 'sk-llm-test', $2, now())
            """);
        command.Parameters.AddWithValue(keyId);
        command.Parameters.AddWithValue(keyId.ToByteArray());
        await command.ExecuteNonQueryAsync();
        return keyId;
    }

    /// <summary>
    /// Gives the job a real Hangfire job in the Enqueued state with its queue entry, fetched by a
    /// worker (and kept alive) or not yet, and makes its row look untouched for <paramref name="age"/>.
    /// </summary>
    public async Task<long> QueueInHangfireAsync(Guid jobId, bool fetched, TimeSpan age)
    {
        await using var command = DataSource.CreateCommand("""
            WITH hangfire_job AS (
                INSERT INTO hangfire.job (invocationdata, arguments, createdat, statename) VALUES ('{}', '[]', now(), 'Enqueued') RETURNING id),
            queued AS (
                INSERT INTO hangfire.jobqueue (jobid, queue, fetchedat) SELECT id, 'chat', CASE WHEN $2 THEN now() END FROM hangfire_job),
            updated AS (
                UPDATE jobs SET hangfire_job_id = (SELECT id FROM hangfire_job)::text, updated_at = now() - $3 WHERE id = $1)
            SELECT id FROM hangfire_job
            """);
        command.Parameters.AddWithValue(jobId);
        command.Parameters.AddWithValue(fetched);
        command.Parameters.AddWithValue(age);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Runs a <c>count(*)</c> query with one parameter (<c>$1</c>).</summary>
    public async Task<long> CountAsync(string sql, object parameter)
    {
        await using var command = DataSource.CreateCommand(sql);
        command.Parameters.AddWithValue(parameter);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await Redis.DisposeAsync();
    }

    private JobReporter Reporter() => new(Events, Store, TimeProvider.System, NullLogger<JobReporter>.Instance);

    private JobExecution Execution() => new(Store, Reporter(), Running, TimeProvider.System, NullLogger<JobExecution>.Instance);

    private static ModelCatalog Catalog(SimulatorOptions? simulator, RedisModelAdmission? admission = null)
    {
        var options = OrchestrationOptions.Simulated();
        options.Simulator = simulator ?? options.Simulator;
        return TestPipelines.Catalog(options, admission: admission);
    }
}
