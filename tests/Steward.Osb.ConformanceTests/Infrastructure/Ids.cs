namespace Steward.Osb.ConformanceTests.Infrastructure;

/// <summary>Fresh instance and binding ids, readable in the broker log.</summary>
public static class Ids
{
    public static string New(string prefix) => $"{prefix}-{Guid.NewGuid():N}";
}
