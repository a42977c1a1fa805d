using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.Retrieval;

/// <summary>
/// Retrieval tests share a Postgres, a Redis and a Garnet with vector sets of their own: the fault test
/// among them runs real Worker processes, which take every queued job in their database.
/// </summary>
[CollectionDefinition(Name)]
public sealed class RetrievalCollection : ICollectionFixture<LocalInfrastructure>
{
    public const string Name = "retrieval";
}
