namespace Steward.Osb.ConformanceTests.Infrastructure;

/// <summary>Tests that provision real instances; they share one broker and its shared instances.</summary>
[CollectionDefinition(Name)]
public sealed class LifecycleCollection : ICollectionFixture<LifecycleFixture>
{
    public const string Name = "osb-conformance-lifecycle";
}
