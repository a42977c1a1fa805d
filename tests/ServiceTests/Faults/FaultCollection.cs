using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests.Faults;

/// <summary>
/// Fault tests run real Worker processes, which take every queued job: they get a Postgres and Redis
/// of their own so that they never run (or are slowed by) the jobs other tests leave queued.
/// </summary>
[CollectionDefinition(Name)]
public sealed class FaultCollection : ICollectionFixture<LocalInfrastructure>
{
    public const string Name = "faults";
}
