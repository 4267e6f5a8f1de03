using Steward.Server.Tests.Infrastructure;

namespace Steward.Osb.ConformanceTests.Infrastructure;

/// <summary>
/// Tests that only send requests a broker must refuse (and the catalog). They share one broker that never
/// holds an instance, so "nothing was created" is a plain comparison.
/// </summary>
[CollectionDefinition(Name)]
public sealed class RefusalCollection : ICollectionFixture<BrokerFixture>
{
    public const string Name = "osb-conformance-refusals";
}
