namespace Steward.Backup.Tests.Infrastructure;

/// <summary>Tests that share one s3rver process.</summary>
[CollectionDefinition(Name)]
public sealed class S3Collection : ICollectionFixture<S3rverFixture>
{
    public const string Name = "s3rver";
}
