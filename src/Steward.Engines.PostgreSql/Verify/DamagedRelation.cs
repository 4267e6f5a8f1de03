namespace Steward.Engines.PostgreSql.Verify;

/// <summary>One relation with damaged pages: where it lives on disk, which blocks, and what found them.</summary>
public sealed record DamagedRelation(string Database, string? Relation, string File, IReadOnlyList<long> Blocks, IReadOnlyList<string> FoundBy);
