using AspireLlm.Tests.Shared;

namespace AspireLlm.ServiceTests;

/// <summary>Every service test shares one Postgres and one Redis, started once.</summary>
[CollectionDefinition(Name)]
public sealed class ServiceCollection : ICollectionFixture<LocalInfrastructure>
{
    public const string Name = "services";
}
